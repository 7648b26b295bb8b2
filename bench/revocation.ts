/**
 * Revocation seen by other instances: tokens created and revoked on one
 * instance (A), used on the others (B, C) before, so that whatever they keep
 * of a verified credential holds the token; then, from A's answer to the
 * revocation, each of the others is asked again every POLL_MS, on a
 * keep-alive connection, until it refuses the token. A itself must refuse it
 * at the next request already.
 */
import { createApiToken, revokeApiToken, viewerStatus } from './client';
import type { ServerProcess } from './processes';

const POLL_MS = 2;
/** Past this, an instance that still accepts a revoked token counts as never refusing it. */
const GIVE_UP_MS = 10_000;

export type RevocationFigures = {
  /** Milliseconds from A's answer to each other instance's first 401, one per token and instance. */
  delays: number[];
  /** Instances that still accepted a token GIVE_UP_MS after its revocation. */
  neverRefused: number;
  /** Revocations after which A's own next request was not refused. */
  acceptedOnA: number;
};

export async function measureRevocation(
  a: ServerProcess,
  others: ServerProcess[],
  credentials: { userKey: string; organizationId: string },
  rounds: number,
): Promise<RevocationFigures> {
  const figures: RevocationFigures = { delays: [], neverRefused: 0, acceptedOnA: 0 };
  for (let round = 0; round < rounds; round += 1) {
    const { id, token } = await createApiToken(a.origin, credentials.userKey, credentials.organizationId);
    const authorization = `Bearer ${token}`;
    for (const other of others) {
      const status = await viewerStatus(other.origin, authorization);
      if (status !== 200) throw new Error(`${other.name} answered ${status} to a live token`);
    }
    await revokeApiToken(a.origin, credentials.userKey, id);
    const revoked = performance.now();
    const [onA, ...delays] = await Promise.all([viewerStatus(a.origin, authorization), ...others.map((other) => firstRefusal(other, authorization, revoked))]);
    if (onA !== 401) figures.acceptedOnA += 1;
    for (const delay of delays) {
      if (delay === undefined) figures.neverRefused += 1;
      else figures.delays.push(delay);
    }
  }
  return figures;
}

/** Milliseconds from `since` to the answer of the first request `server` refused with 401; undefined after GIVE_UP_MS. */
async function firstRefusal(server: ServerProcess, authorization: string, since: number): Promise<number | undefined> {
  while (performance.now() - since < GIVE_UP_MS) {
    const status = await viewerStatus(server.origin, authorization);
    if (status === 401) return performance.now() - since;
    if (status !== 200) throw new Error(`${server.name} answered ${status} while the revocation was on its way`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  return undefined;
}

/** The value below which `fraction` of the sorted `values` lie (nearest rank). */
export function percentile(values: number[], fraction: number): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.max(0, Math.ceil(fraction * sorted.length) - 1)] ?? NaN;
}
