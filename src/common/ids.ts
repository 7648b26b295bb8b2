import { badInput } from '../errors';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isId(value: string): boolean {
  return UUID.test(value);
}

/** Ids are UUIDs; anything else is refused before it reaches a query. */
export function checkId(field: string, value: string): string {
  if (!isId(value)) throw badInput(field, 'is not a valid id');
  return value.toLowerCase();
}
