import { type ClassType, Field, Int, ObjectType } from 'type-graphql';
import { PageInfo, type Page } from './pagination';

export type ConnectionShape<T> = {
  edges: { cursor: string; node: T }[];
  pageInfo: PageInfo;
  totalCount: number;
};

/** A Relay-style connection type for `Node`, named `<name>Connection` with `<name>Edge` edges. */
export function Connection<T extends object>(Node: ClassType<T>, name: string) {
  @ObjectType(`${name}Edge`)
  class Edge {
    @Field()
    cursor: string;

    @Field(() => Node)
    node: T;
  }

  // Registered so its subclass inherits the fields; never referenced, so it is not emitted.
  @ObjectType(`${name}ConnectionBase`)
  abstract class ConnectionClass implements ConnectionShape<T> {
    @Field(() => [Edge])
    edges: Edge[];

    @Field(() => PageInfo)
    pageInfo: PageInfo;

    @Field(() => Int)
    totalCount: number;
  }

  return ConnectionClass;
}

export function toConnection<E, T>(page: Page<E>, map: (entity: E) => T): ConnectionShape<T> {
  return {
    edges: page.nodes.map((node, index) => ({ cursor: page.cursors[index]!, node: map(node) })),
    pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.cursors.at(-1) ?? null },
    totalCount: page.totalCount,
  };
}
