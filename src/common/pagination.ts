import { ArgsType, Field, Int, ObjectType } from 'type-graphql';
import type { ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import { badInput } from '../errors';

export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 20;

@ArgsType()
export class PageArgs {
  @Field(() => Int, { nullable: true, description: `How many to return, 1 to ${MAX_PAGE_SIZE} (default ${DEFAULT_PAGE_SIZE}).` })
  first?: number | null;

  @Field(() => String, { nullable: true, description: 'The endCursor of the previous page.' })
  after?: string | null;
}

@ObjectType()
export class PageInfo {
  @Field()
  hasNextPage: boolean;

  @Field(() => String, { nullable: true })
  endCursor: string | null;
}

/** Rows are paged by (createdAt, id): stable, and createdAt is stored to the millisecond so a cursor round-trips exactly. */
type Keyed = { createdAt: Date; id: string };

/** The largest time a JavaScript Date holds (year 275760). */
const MAX_TIME = 8.64e15;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function encodeCursor(row: Keyed): string {
  return Buffer.from(JSON.stringify([row.createdAt.getTime(), row.id])).toString('base64url');
}

export function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    // Only times a row can have: outside 1970..275760 a Date is invalid or beyond PostgreSQL's range, and the query would fail.
    if (Array.isArray(value) && value.length === 2 && Number.isSafeInteger(value[0]) && value[0] >= 0 && value[0] <= MAX_TIME && typeof value[1] === 'string' && UUID.test(value[1])) {
      return { createdAt: new Date(value[0] as number), id: value[1] };
    }
  } catch {
    // fall through to the one error below
  }
  throw badInput('after', 'invalid cursor');
}

export function pageSize(first: number | null | undefined): number {
  if (first === null || first === undefined) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE_SIZE) {
    throw badInput('first', `must be between 1 and ${MAX_PAGE_SIZE}`);
  }
  return first;
}

export type Page<T> = { nodes: T[]; cursors: string[]; hasNextPage: boolean; totalCount: number };

/** Keyset pagination over a query builder whose main alias has createdAt and id; oldest first unless `newestFirst`. */
export async function paginate<T extends ObjectLiteral & Keyed>(query: SelectQueryBuilder<T>, args: PageArgs, newestFirst = false): Promise<Page<T>> {
  const size = pageSize(args.first);
  const alias = query.alias;
  const after = args.after ? decodeCursor(args.after) : null;
  const totalCount = query.clone().getCount();
  const order = newestFirst ? 'DESC' : 'ASC';
  const pageQuery = query.clone().orderBy(`${alias}.createdAt`, order).addOrderBy(`${alias}.id`, order).limit(size + 1);
  if (after) {
    pageQuery.andWhere(`(${alias}.createdAt, ${alias}.id) ${newestFirst ? '<' : '>'} (:afterCreatedAt, :afterId)`, {
      afterCreatedAt: after.createdAt,
      afterId: after.id,
    });
  }
  const [rows, count] = await Promise.all([pageQuery.getMany(), totalCount]);
  const nodes = rows.slice(0, size);
  return { nodes, cursors: nodes.map(encodeCursor), hasNextPage: rows.length > size, totalCount: count };
}
