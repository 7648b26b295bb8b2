import { Router } from 'express';
import { ruruHTML } from 'ruru/server';
import { serveStatic } from 'ruru/static';

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
  router.use(serveStatic(STATIC_PATH));
  return router;
}
