import { inspect } from 'node:util';

const MAX_LENGTH = 2_000;

function describeOne(error: unknown, seen: Set<unknown>): string {
  if (error === undefined || error === null) {
    return `no reason given (a component failed with ${String(error)})`;
  }
  if (seen.has(error)) return '';
  seen.add(error);
  if (error instanceof AggregateError) {
    // Node reports a refused connection to every address of a name (::1 and 127.0.0.1) this way, with an empty message.
    const inner = error.errors.map((each) => describeOne(each, seen)).filter(Boolean);
    const own = error.message || (error as { code?: string }).code || 'several failures';
    return inner.length > 0 ? `${own}: ${[...new Set(inner)].join('; ')}` : own;
  }
  if (error instanceof Error) {
    const own = error.message || (error as { code?: string }).code || error.name;
    const cause = error.cause === undefined ? '' : describeOne(error.cause, seen);
    return cause && !own.includes(cause) ? `${own}: ${cause}` : own;
  }
  if (typeof error === 'string') return error || 'no reason given (a component failed with an empty string)';
  return `a component failed with ${inspect(error, { depth: 2, breakLength: Infinity })}`;
}

/**
 * One line naming why idgraph could not start, whatever was thrown: an
 * Error and its causes, an AggregateError's parts, or the non-Error values
 * some packages reject with (undefined, strings, plain objects). No stack.
 */
export function describeStartFailure(error: unknown): string {
  const text = describeOne(error, new Set()).replace(/\s*\n\s*/g, ' ').trim();
  return text.length > MAX_LENGTH ? `${text.slice(0, MAX_LENGTH)}…` : text;
}
