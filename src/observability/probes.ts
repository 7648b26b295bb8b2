import type { FastifyInstance } from 'fastify';
import type { Readiness } from './readiness';

/**
 * The orchestrator's probes, without credentials and without anything an
 * outsider could learn from (no version, host, driver error or setting):
 * `/healthz` says the process serves and touches nothing; `/readyz` says
 * whether it can serve requests that need the database.
 */
export function probes(app: FastifyInstance, readiness: Readiness): void {
  app.get('/healthz', async (_request, reply) => {
    return reply.header('cache-control', 'no-store').send({ status: 'ok' });
  });
  app.get('/readyz', async (_request, reply) => {
    const { ready, checks } = await readiness.check();
    return reply
      .header('cache-control', 'no-store')
      .code(ready ? 200 : 503)
      .send({ status: ready ? 'ok' : 'unavailable', checks });
  });
}
