/** Listening, and the graceful stop on SIGTERM or SIGINT: reviews in flight finish, then the server closes. */
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
 * What the app and the shutdown share. The app counts the reviews it has taken and not yet answered,
 * and once `closing` is set every answer says `Connection: close`, so a kept-alive connection ends
 * with its last answer instead of lingering. Counted by the app where it answers: no listener and no
 * set entry per request.
 */
export class InFlight {
  /** Reviews taken and not yet answered. */
  reviews = 0;
  /** Set at SIGTERM or SIGINT. */
  closing = false;
}

/** Resolves once the server has stopped after SIGTERM or SIGINT; a second signal cuts open connections. */
export function serveUntilSignal(
  server: Server,
  state: State,
  logger: Logger,
  watches: FileWatch[],
): Promise<number> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      const { inFlight } = state;
      if (inFlight.closing) {
        logger.warn({ signal }, 'second signal: closing open connections now');
        server.closeAllConnections();
        return;
      }
      inFlight.closing = true;
      logger.info(
        { signal, inFlight: inFlight.reviews },
        'shutting down: no new connections, finishing reviews in flight',
      );
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
