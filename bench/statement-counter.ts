/**
 * SQL statements counted from outside idgraph, on the wire: a TCP proxy in
 * front of PostgreSQL that reads the frontend messages of the PostgreSQL
 * protocol and counts each simple Query ('Q') and each Execute ('E') of the
 * extended protocol. Every statement a client sends is one of them, whichever
 * library sends it (TypeORM, the rate limiter's direct use of the pool, a
 * LISTEN), and it works alike on any PostgreSQL: pg_stat_statements needs
 * shared_preload_libraries, which neither the machine's server nor the
 * embedded one loads, and pg_stat_database counts transactions, late.
 *
 * The proxy sits in the bench's process, so an instance that goes through it
 * is used to count, not to measure throughput (bench/run.ts keeps the two
 * apart).
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

/** The untyped requests a client may send before its startup message. */
const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const QUERY = 'Q'.charCodeAt(0);
const EXECUTE = 'E'.charCodeAt(0);

/** Where PostgreSQL listens: a TCP address, or a Unix socket (the embedded server listens on nothing else). */
type Target = { host: string; port: number } | { path: string };

export class StatementCounter {
  /** Statements sent since the start. */
  count = 0;

  private constructor(
    private readonly server: Server,
    private readonly sockets: Set<Socket>,
    readonly port: number,
    private readonly target: URL,
  ) {}

  /** A counter in front of the PostgreSQL that `databaseUrl` names (`?host=/folder` for a Unix socket, as pg reads it). */
  static async start(databaseUrl: string): Promise<StatementCounter> {
    const url = new URL(databaseUrl);
    const socketFolder = url.searchParams.get('host');
    const port = Number(url.port || 5432);
    const target: Target = socketFolder?.startsWith('/') ? { path: `${socketFolder}/.s.PGSQL.${port}` } : { host: url.hostname, port };
    const sockets = new Set<Socket>();
    let counter: StatementCounter | undefined;
    const server = createServer((client) => {
      const upstream = createConnection(target);
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
        socket.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      const scan = frontendScanner(() => {
        counter!.count += 1;
      });
      client.on('data', scan);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    counter = new StatementCounter(server, sockets, (server.address() as { port: number }).port, url);
    return counter;
  }

  /** The URL to give idgraph so that its statements go through the counter. */
  get url(): string {
    const url = new URL(this.target.toString());
    url.searchParams.delete('host');
    url.hostname = '127.0.0.1';
    url.port = String(this.port);
    return url.toString();
  }

  /** The statements `work` caused, counted from its start to its end. */
  async during<T>(work: () => Promise<T>): Promise<{ result: T; statements: number }> {
    const before = this.count;
    const result = await work();
    return { result, statements: this.count - before };
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * Reads a client's byte stream as PostgreSQL frontend messages: first the
 * untyped ones (an SSL or GSS encryption request, then the startup message:
 * length, then code), then typed ones (a type byte, then a length that counts
 * itself and the body). Calls `onStatement` for each Query and Execute.
 */
function frontendScanner(onStatement: () => void): (chunk: Buffer) => void {
  let startup = true;
  let header = Buffer.alloc(0);
  let bodyLeft = 0;
  return (chunk) => {
    let offset = 0;
    while (offset < chunk.length) {
      if (bodyLeft > 0) {
        const skipped = Math.min(bodyLeft, chunk.length - offset);
        bodyLeft -= skipped;
        offset += skipped;
        continue;
      }
      const headerLength = startup ? 8 : 5;
      const taken = Math.min(headerLength - header.length, chunk.length - offset);
      header = Buffer.concat([header, chunk.subarray(offset, offset + taken)]);
      offset += taken;
      if (header.length < headerLength) return;
      if (startup) {
        const code = header.readInt32BE(4);
        bodyLeft = header.readInt32BE(0) - 8;
        if (code !== SSL_REQUEST && code !== GSSENC_REQUEST) startup = false;
      } else {
        if (header[0] === QUERY || header[0] === EXECUTE) onStatement();
        bodyLeft = header.readInt32BE(1) - 4;
      }
      header = Buffer.alloc(0);
    }
  };
}
