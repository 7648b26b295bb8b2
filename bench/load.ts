/** The load: autocannon in the bench's process, against a server in another. */
import autocannon from 'autocannon';
import type { Target } from './targets';

export type Case = {
  name: string;
  /** Which of issue 10's targets the case is held to. */
  target?: Target;
  /** The path on the server (`/graphql` when absent). */
  path?: string;
  /** The JSON body: `{ query }` for a GraphQL case. */
  body: string;
  headers?: Record<string, string>;
  /** The status every answer must have (200 when absent). */
  status?: number;
  /** A fresh Authorization header for each request. */
  authorizationPerRequest?: () => string;
};

export type Measured = { rps: number; p50: number; p99: number; requests: number };

export const graphql = (query: string) => JSON.stringify({ query });

/**
 * Runs `load` against `origin` for `seconds`, or for `amount` requests, with
 * `connections` keep-alive connections. Throws when any answer has another
 * status than the case expects: a figure of refused or failed requests would
 * measure something else.
 */
export async function measure(
  origin: string,
  load: Case,
  options: { connections: number } & ({ seconds: number } | { amount: number }),
): Promise<Measured> {
  const perRequest = load.authorizationPerRequest;
  const result = await autocannon({
    url: `${origin}${load.path ?? '/graphql'}`,
    method: 'POST',
    connections: options.connections,
    ...('seconds' in options ? { duration: options.seconds } : { amount: options.amount }),
    headers: { 'content-type': 'application/json', ...load.headers },
    body: load.body,
    // autocannon calls a request's setupRequest before each send; a top-level one is ignored.
    ...(perRequest
      ? { requests: [{ setupRequest: (request: autocannon.Request) => ({ ...request, headers: { ...request.headers, authorization: perRequest() } }) }] }
      : {}),
  });
  const expected = load.status ?? 200;
  const others = Object.entries(result.statusCodeStats ?? {}).filter(([status]) => Number(status) !== expected);
  if (others.length > 0 || result.errors > 0 || result.timeouts > 0) {
    throw new Error(`${load.name}: answers other than ${expected}: ${JSON.stringify(others)}, ${result.errors} errors, ${result.timeouts} timeouts`);
  }
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, requests: result.requests.total };
}
