import pino from 'pino';

export type Logger = pino.Logger;

/**
 * Structured JSON logs. Credentials are never passed to the logger on purpose;
 * the redaction is a second line of defence should a header object slip in.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'idgraph' },
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers.cookie',
          'headers.authorization',
          'headers.cookie',
          '*.password',
          '*.token',
          '*.userKey',
          '*.refresh',
          '*.access',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
