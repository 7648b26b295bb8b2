/**
 * The bench's ceiling, run in a process of its own by bench/processes.ts: a
 * bare Apollo Server as `startStandaloneServer` makes it (node:http), with
 * idgraph's own `@apollo/server` and `graphql`, answering `{ __typename }`.
 * Listens on 127.0.0.1:PORT.
 */
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';

async function main(): Promise<void> {
  const server = new ApolloServer({ typeDefs: 'type Query { ok: Boolean }', resolvers: { Query: { ok: () => true } } });
  const { url } = await startStandaloneServer(server, { listen: { port: Number(process.env.PORT), host: '127.0.0.1' } });
  // Apollo Server stops itself on SIGTERM (stopOnTerminationSignals, its default outside tests).
  process.stdout.write(`ceiling listening at ${url}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
