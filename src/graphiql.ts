import path from 'node:path';
import express, { Router } from 'express';
import { ruruHTML } from 'ruru/server';

const STATIC_PATH = '/graphiql/static/';

/**
 * The GraphQL IDE: GraphiQL as packaged by ruru, its JavaScript and CSS served
 * from the installed package (no CDN: it works offline), pointed at /graphql,
 * with the header editor on for `Authorization`.
 */
export function graphiql(): Router {
  const html = ruruHTML({
    endpoint: '/graphql',
    staticPath: STATIC_PATH,
    // ruru's own types mark every client option required; only this one is set.
    clientConfig: { isHeadersEditorEnabled: true } as Parameters<typeof ruruHTML>[0]['clientConfig'],
    htmlParts: { titleTag: '<title>idgraph — GraphiQL</title>' },
  });
  const router = Router();
  router.get('/graphiql', (_req, res) => {
    res.type('html').send(html);
  });
  // The package's own folder of built assets, served as files (ruru's serveStatic imports them dynamically, which test runners' module sandboxes refuse).
  router.use(STATIC_PATH, express.static(path.join(path.dirname(require.resolve('ruru/server')), '..', 'static'), { immutable: true, maxAge: '1d' }));
  return router;
}
