/**
 * Issue 10's targets, checked against the figures of one run: each line says
 * what was measured, the target, and whether it is met. Only a guide: a
 * figure taken while the machine is busy with other work says little.
 */
import type { RevocationFigures } from './revocation';
import { percentile } from './revocation';

/** What a case of the table is held to. */
export type Target = 'anonymous' | 'credential' | 'refresh' | 'malformed' | 'unknown' | 'limiter';

export type Figures = {
  /** Each with the ceiling measured beside it, which its ratios are of. */
  rows: { name: string; target?: Target; rps: number; p99: number; sql?: number; beside: { rps: number; p99: number } }[];
  firstUse: Record<string, number>;
  revocation: RevocationFigures;
  /** p99 with the large table over p99 with the small one, and the table's sizes; undefined when skipped. */
  scale?: { ratio: number; small: number; large: number };
};

/**
 * What counts as no SQL per request: fewer than one statement per hundred
 * requests. An instance's background work (the batched last-used writes, the
 * rate limits' purge, the signing keys' reload) may send one during a case.
 */
const NO_SQL = 0.01;

export function targetLines(figures: Figures): string[] {
  const lines: string[] = [];
  const check = (what: string, measured: string, met: boolean) => lines.push(`${met ? 'met    ' : 'NOT met'}  ${what}: ${measured}`);
  const ratio = (row: Figures['rows'][number]) => row.rps / row.beside.rps;
  const p99Ratio = (row: Figures['rows'][number]) => row.p99 / row.beside.p99;
  const sql = (row: { sql?: number }) => row.sql ?? NaN;
  for (const row of figures.rows) {
    const name = row.name;
    switch (row.target) {
      case 'anonymous':
        check(`${name} ≥ 0.9× the ceiling`, `${ratio(row).toFixed(2)}×`, ratio(row) >= 0.9);
        break;
      case 'credential':
        check(`${name} ≥ 0.8× the ceiling`, `${ratio(row).toFixed(2)}×`, ratio(row) >= 0.8);
        check(`${name} p99 ≤ 1.5× the ceiling's`, `${p99Ratio(row).toFixed(2)}×`, p99Ratio(row) <= 1.5);
        check(`${name} 0 SQL per request in steady state`, sql(row).toFixed(3), sql(row) < NO_SQL);
        break;
      case 'refresh':
        check(`${name} ≥ 0.5× the ceiling`, `${ratio(row).toFixed(2)}×`, ratio(row) >= 0.5);
        break;
      case 'malformed':
        check(`${name} ≥ 0.9× the ceiling`, `${ratio(row).toFixed(2)}×`, ratio(row) >= 0.9);
        check(`${name} 0 SQL`, sql(row).toFixed(3), sql(row) < NO_SQL);
        break;
      case 'unknown':
        // The lookup, and the failed check's count, which the limiter needs to refuse the address later.
        check(`${name}: one indexed lookup each (and the failed check's count)`, `${sql(row).toFixed(2)} statements`, sql(row) <= 2);
        break;
      case 'limiter':
        check(`${name} without a query`, `${sql(row).toFixed(3)} SQL per request`, sql(row) < NO_SQL);
        break;
      default:
        break;
    }
  }
  for (const [kind, statements] of Object.entries(figures.firstUse)) check(`first use, ${kind}: one statement`, String(statements), statements === 1);
  const { scale } = figures;
  if (scale) check(`p99 with ${scale.large} API tokens within 1.2× of the figure with ${scale.small}`, `${scale.ratio.toFixed(2)}×`, scale.ratio <= 1.2);
  const { delays, neverRefused, acceptedOnA } = figures.revocation;
  const p99 = percentile(delays, 0.99);
  check('revocation seen by other instances, p99 ≤ 250 ms', `${p99.toFixed(1)} ms${neverRefused > 0 ? `, ${neverRefused} never` : ''}`, p99 <= 250 && neverRefused === 0);
  check('revocation seen at once by the instance that revoked', `${acceptedOnA} of the next requests accepted`, acceptedOnA === 0);
  return lines;
}
