/**
 * Runs many `gloo-guard check` command lines in one process: JSON `string[][]` on stdin, one JSON line per
 * run on stdout ({code, stdout, stderr}). The corpus has 79 files of 47 chart/version/namespace
 * combinations, and `check` merges its FILEs into one release; one tsx process per file costs ~1-2 s of
 * start-up each on a loaded machine, so the corpus would take minutes. Each run goes through `runCheck`,
 * the same function `gloo-guard check` dispatches to (argument parsing, file reading, JSON rendering, exit
 * code); corpus.test.ts also spawns the real CLI for some files and requires byte-equal output.
 */
import { runCheck } from '../../src/cli/check.js';

async function capture(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const realOut = process.stdout.write.bind(process.stdout);
  const realErr = process.stderr.write.bind(process.stderr);
  process.stdout.write = (chunk: string | Uint8Array) => out.push(String(chunk)) > 0;
  process.stderr.write = (chunk: string | Uint8Array) => err.push(String(chunk)) > 0;
  try {
    const code = await runCheck(args);
    return { code, stdout: out.join(''), stderr: err.join('') };
  } catch (e: unknown) {
    // What main.ts would print as an internal error: a crash of check on this input.
    const message = e instanceof Error ? e.message : String(e);
    return {
      code: -1,
      stdout: out.join(''),
      stderr: `${err.join('')}gloo-guard: internal error: ${message}\n`,
    };
  } finally {
    process.stdout.write = realOut;
    process.stderr.write = realErr;
  }
}

async function main(): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  const runs = JSON.parse(Buffer.concat(chunks).toString('utf8')) as string[][];
  for (const args of runs) process.stdout.write(`${JSON.stringify(await capture(args))}\n`);
}

await main();
