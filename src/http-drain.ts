import type { Server, ServerResponse } from 'node:http';
import type { onRequestHookHandler } from 'fastify';
import { ErrorCode, RETRY_AFTER_SECONDS } from './errors';

/**
 * Stops an HTTP server the way a service is expected to stop: no new
 * connection is accepted, idle keep-alive connections are closed at once,
 * requests in flight finish (and their connection closes after the
 * response), and whatever still runs when the deadline passes is cut off.
 *
 * Node's `server.close()` alone leaves a keep-alive connection open after its
 * last response until the client or the keep-alive timeout closes it; the
 * grace period here is the caller's, so a second signal can end it early.
 */
export class HttpDrain {
  private readonly inFlight = new Set<ServerResponse>();
  private draining = false;

  constructor(private readonly server: Server) {
    server.on('request', (_req, res: ServerResponse) => {
      this.inFlight.add(res);
      res.once('close', () => {
        this.inFlight.delete(res);
        // A response sent before `Connection: close` could be set leaves its connection idle: close it now.
        if (this.draining) setImmediate(() => this.server.closeIdleConnections());
      });
    });
  }

  /**
   * A request that arrives on an open keep-alive connection once draining has
   * begun is refused with 503, and its connection closed.
   */
  readonly refuseWhileDraining: onRequestHookHandler = (_request, reply, done) => {
    if (!this.draining) return done();
    // Answered from the hook, so no other hook and no handler runs.
    void reply
      .code(503)
      .headers({ connection: 'close', 'retry-after': String(RETRY_AFTER_SECONDS), 'cache-control': 'no-store' })
      .send({ errors: [{ message: 'the server is shutting down', extensions: { code: ErrorCode.SERVICE_UNAVAILABLE, retryAfter: RETRY_AFTER_SECONDS } }] });
  };

  /** Resolves once every connection is closed; says how many requests the deadline cut off. */
  async drain(deadline: AbortSignal): Promise<{ cutOff: number }> {
    this.draining = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const res of this.inFlight) {
      if (!res.headersSent) res.shouldKeepAlive = false;
    }
    this.server.closeIdleConnections();
    let cutOff = 0;
    const cut = () => {
      cutOff = this.inFlight.size;
      this.server.closeAllConnections();
    };
    if (deadline.aborted) cut();
    else deadline.addEventListener('abort', cut, { once: true });
    try {
      await closed;
    } finally {
      deadline.removeEventListener('abort', cut);
    }
    return { cutOff };
  }
}
