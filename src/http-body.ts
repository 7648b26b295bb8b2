import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import type { FastifyInstance, FastifyRequest } from 'fastify';

/** An error of the request itself, told to the client in these words (see httpErrorHandler). */
export class RequestError extends Error {
  readonly expose = true;

  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

const DECODERS: Record<string, (body: Buffer, options: { maxOutputLength: number }) => Buffer> = {
  gzip: gunzipSync,
  'x-gzip': gunzipSync,
  deflate: inflateSync,
  br: brotliDecompressSync,
};

/**
 * The body as sent, decompressed when it says it is (a supergraph's router
 * may compress what it sends its subgraphs), never past `limit` bytes either way.
 */
function decoded(request: FastifyRequest, body: Buffer, limit: number): Buffer {
  const encoding = String(request.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (encoding === 'identity' || encoding === '') return body;
  const decode = DECODERS[encoding];
  if (!decode) throw new RequestError(415, `unsupported content-encoding: ${encoding.slice(0, 40)} (gzip, deflate, br or none)`);
  try {
    return decode(body, { maxOutputLength: limit });
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') throw new RequestError(413, `the body is larger than ${limit} bytes once decompressed`);
    throw new RequestError(400, `the body could not be decompressed as ${encoding}`);
  }
}

/** A `__proto__` key anywhere: refused, since code that merges the body into an object would set a prototype. */
function hasPrototypeKey(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (Object.prototype.hasOwnProperty.call(value, '__proto__')) return true;
  return Object.values(value).some(hasPrototypeKey);
}

function parseJson(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new RequestError(400, 'the body is not valid JSON');
  }
  if (text.includes('__proto__') && hasPrototypeKey(value)) throw new RequestError(400, 'the body has a "__proto__" key, which is refused');
  return value;
}

/**
 * The bodies a scope reads: JSON (`application/json` and `application/*+json`)
 * up to `limit` bytes; any other body is left unread and the request goes on
 * without one (as Express's `json()` did), so that Apollo's CSRF prevention
 * and the token endpoints answer it themselves.
 */
export function readJsonOnly(scope: FastifyInstance, limit: number): void {
  scope.removeAllContentTypeParsers();
  const json = (request: FastifyRequest, body: Buffer, done: (error: Error | null, value?: unknown) => void) => {
    try {
      done(null, parseJson(decoded(request, body, limit).toString('utf8')));
    } catch (error) {
      done(error as Error);
    }
  };
  scope.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: limit }, json);
  scope.addContentTypeParser(/^application\/[\w.+-]+\+json(?:\s*;|$)/i, { parseAs: 'buffer', bodyLimit: limit }, json);
  scope.addContentTypeParser('*', (_request, payload, done) => {
    payload.resume();
    done(null, undefined);
  });
}
