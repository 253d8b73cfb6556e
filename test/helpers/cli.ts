/** Runs the real gloo-guard CLI (from source, through tsx) as a user would. */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');

/** What a CLI run printed and returned. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `gloo-guard ARGS...` in the repo root, optionally with stdin and with Node options. */
export function cli(args: string[], input?: string | Buffer, nodeOptions: string[] = []): CliRun {
  const main = resolve(ROOT, 'src/cli/main.ts');
  const r = spawnSync(process.execPath, [...nodeOptions, '--import', 'tsx', main, ...args], {
    cwd: ROOT,
    input,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
    maxBuffer: 64 << 20,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
