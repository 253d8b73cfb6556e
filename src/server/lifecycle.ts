/** Listening, and the graceful stop on SIGTERM or SIGINT: reviews in flight finish, then the server closes. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Logger } from './log.js';
import type { State } from './serve-state.js';
import type { FileWatch } from './watch.js';

/** How long in-flight reviews may take to finish after SIGTERM before connections are cut. */
const SHUTDOWN_GRACE_MS = 25_000;

/** Listens; rejects with the socket error (EADDRINUSE) instead of emitting it. */
export function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

/**
 * The responses not yet finished. At shutdown each gets `Connection: close`, like every request that
 * arrives after it, so a kept-alive connection ends with its last answer instead of lingering.
 */
export function trackInFlight(server: Server, state: State): Set<ServerResponse> {
  const open = new Set<ServerResponse>();
  // One listener for every response ('close' comes once): no closure and no once-wrapper per review.
  function closed(this: ServerResponse): void {
    open.delete(this);
  }
  server.prependListener('request', (_req: IncomingMessage, res: ServerResponse) => {
    if (state.shuttingDown) {
      res.setHeader('Connection', 'close');
      return;
    }
    open.add(res);
    res.on('close', closed);
  });
  return open;
}

/** Resolves once the server has stopped after SIGTERM or SIGINT; a second signal cuts open connections. */
export function serveUntilSignal(
  server: Server,
  state: State,
  logger: Logger,
  inFlight: Set<ServerResponse>,
  watches: FileWatch[],
): Promise<number> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      if (state.shuttingDown) {
        logger.warn({ signal }, 'second signal: closing open connections now');
        server.closeAllConnections();
        return;
      }
      state.shuttingDown = true;
      logger.info(
        { signal, inFlight: inFlight.size },
        'shutting down: no new connections, finishing reviews in flight',
      );
      for (const res of inFlight) if (!res.headersSent) res.setHeader('Connection', 'close');
      for (const w of watches) w.close();
      const force = setTimeout(() => {
        logger.warn(
          { graceMs: SHUTDOWN_GRACE_MS },
          'reviews still in flight after the grace period; closing connections',
        );
        server.closeAllConnections();
      }, SHUTDOWN_GRACE_MS);
      force.unref();
      server.close(() => {
        clearTimeout(force);
        process.off('SIGTERM', stop);
        process.off('SIGINT', stop);
        logger.info('stopped');
        resolve(0);
      });
      server.closeIdleConnections();
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}
