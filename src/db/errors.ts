import { QueryFailedError } from 'typeorm';

/** The name of the unique constraint or index a write violated, or null for any other error. */
export function uniqueViolation(error: unknown): string | null {
  if (!(error instanceof QueryFailedError)) return null;
  const driverError = error.driverError as { code?: string; constraint?: string };
  return driverError.code === '23505' ? (driverError.constraint ?? 'unknown') : null;
}
