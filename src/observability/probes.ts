import { Router } from 'express';
import type { Readiness } from './readiness';

/**
 * The orchestrator's probes, without credentials and without anything an
 * outsider could learn from (no version, host, driver error or setting):
 * `/healthz` says the process serves and touches nothing; `/readyz` says
 * whether it can serve requests that need the database.
 */
export function probes(readiness: Readiness): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.set('cache-control', 'no-store').json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const { ready, checks } = await readiness.check();
    res.set('cache-control', 'no-store').status(ready ? 200 : 503).json({ status: ready ? 'ok' : 'unavailable', checks });
  });
  return router;
}
