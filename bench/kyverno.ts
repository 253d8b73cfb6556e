/**
 * `npm run bench:kyverno [-- --skip-bomb] [-- --check]`: only the Kyverno comparison that `npm run bench`
 * also runs (bench/kyverno/compare.ts); `--check` says what would run, and whether the harness is built
 * or buildable, without running anything.
 */
import { parseArgs } from 'node:util';
import { kyvernoPlan, runKyverno } from './kyverno/compare.js';
import { renderKyvernoMarkdown } from './kyverno/report.js';

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { 'skip-bomb': { type: 'boolean', default: false }, check: { type: 'boolean', default: false } },
  });
  if (values.check) {
    for (const line of kyvernoPlan(values['skip-bomb'])) log(line);
    return;
  }
  const results = await runKyverno({ skipBomb: values['skip-bomb'], log });
  log(renderKyvernoMarkdown(results));
  if (results.parity.some((p) => !p.same)) process.exitCode = 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:kyverno failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
