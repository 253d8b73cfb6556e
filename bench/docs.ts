/**
 * `npm run docs:perf [-- --check]`: the generated parts of docs/performance.md, made from the results
 * the bench wrote (bench/results/e2e.json, with the commit it was measured on). Each generated part
 * sits between `<!-- generated:NAME -->` and `<!-- /generated:NAME -->`; `--check` fails when the
 * page drifted from the results (the drift test runs the same comparison).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderE2e, type E2eResults } from './e2e-report.js';

const ROOT = join(import.meta.dirname, '..');
const PAGE = join(ROOT, 'docs', 'performance.md');

/** The generated parts, by name, from the recorded results. */
export function generatedParts(): Record<string, string> {
  const e2eFile = join(ROOT, 'bench', 'results', 'e2e.json');
  if (!existsSync(e2eFile)) return {};
  const e2e = JSON.parse(readFileSync(e2eFile, 'utf8')) as E2eResults;
  // The page has its own heading: the report's title becomes a sentence.
  const [, ...body] = renderE2e(e2e).split('\n');
  const stamp = `Measured ${e2e.generatedAt.slice(0, 16).replace('T', ' ')} UTC on commit ${e2e.commit} (bench/results/e2e.json).`;
  return { e2e: [stamp, ...body.map((l) => l.replace(/^## /, '#### '))].join('\n').trim() };
}

/** The page with every generated part replaced by what the results give. */
export function regenerate(page: string, parts: Record<string, string>): string {
  let out = page;
  for (const [name, text] of Object.entries(parts)) {
    const open = `<!-- generated:${name} -->`;
    const close = `<!-- /generated:${name} -->`;
    const a = out.indexOf(open);
    const b = out.indexOf(close);
    if (a < 0 || b < a) throw new Error(`docs/performance.md has no ${open} … ${close} block`);
    out = `${out.slice(0, a + open.length)}\n${text}\n${out.slice(b)}`;
  }
  return out;
}

function main(): void {
  const page = readFileSync(PAGE, 'utf8');
  const next = regenerate(page, generatedParts());
  if (process.argv.includes('--check')) {
    if (next !== page) {
      process.stderr.write('docs/performance.md drifted from bench/results: run `npm run docs:perf`\n');
      process.exitCode = 1;
    }
    return;
  }
  writeFileSync(PAGE, next);
}

if (process.argv[1] !== undefined && import.meta.filename === process.argv[1]) main();
