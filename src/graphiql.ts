import { createReadStream, readdirSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { ruruHTML } from 'ruru/server';

const STATIC_PATH = '/graphiql/static/';

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.ttf': 'font/ttf',
};

/**
 * The GraphQL IDE: GraphiQL as packaged by ruru, its JavaScript and CSS served
 * from the installed package (no CDN: it works offline), pointed at /graphql,
 * with the header editor on for `Authorization`.
 */
export function graphiql(app: FastifyInstance): void {
  const html = ruruHTML({
    endpoint: '/graphql',
    staticPath: STATIC_PATH,
    // ruru's own types mark every client option required; only this one is set.
    clientConfig: { isHeadersEditorEnabled: true } as Parameters<typeof ruruHTML>[0]['clientConfig'],
    htmlParts: { titleTag: '<title>idgraph — GraphiQL</title>' },
  });
  app.get('/graphiql', async (_request, reply) => reply.type('text/html; charset=utf-8').send(html));
  // The package's own folder of built assets, served as files (ruru's serveStatic imports them dynamically, which test runners' module sandboxes refuse).
  // Only the names listed at start are served: a request names a file, never a path.
  const folder = path.join(path.dirname(require.resolve('ruru/server')), '..', 'static');
  const files = new Set(readdirSync(folder, { withFileTypes: true }).filter((entry) => entry.isFile()).map((entry) => entry.name));
  app.get<{ Params: { file: string } }>(`${STATIC_PATH}:file`, async (request, reply) => {
    const { file } = request.params;
    if (!files.has(file)) return reply.callNotFound();
    return reply
      .type(CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream')
      .header('cache-control', 'public, max-age=86400, immutable')
      .send(createReadStream(path.join(folder, file)));
  });
}
