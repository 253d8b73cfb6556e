/** Reloads the config file when it changes; an invalid change is logged and the previous config stays. */
import { ConfigError, loadConfig } from '../config/load.js';
import type { Logger } from './log.js';
import type { Metrics } from './metrics.js';
import type { State } from './serve-state.js';
import { watchFiles, type FileWatch } from './watch.js';

/** Watches `file`; each valid change replaces `state.config`. */
export function watchConfig(
  file: string,
  state: State,
  metrics: Metrics,
  logger: Logger,
  pollMs: number,
): FileWatch {
  return watchFiles(
    [file],
    () => {
      try {
        state.config = loadConfig(file);
        metrics.configReloads.inc({ result: 'success' });
        logger.info({ file, mode: state.config.mode }, 'config reloaded');
      } catch (err: unknown) {
        metrics.configReloads.inc({ result: 'failure' });
        const problem = err instanceof ConfigError ? err.message.split('\n') : ['unreadable'];
        logger.error(
          { file, problems: problem },
          'config change ignored: the new config is invalid, the previous one stays in force',
        );
      }
    },
    { pollMs },
  );
}
