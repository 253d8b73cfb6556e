/**
 * `npm run docs:perf [-- --check]`: the generated parts of docs/performance.md, made from the results
 * the bench wrote (bench/results/latest.json and the run before it in previous.json, e2e.json,
 * rule-cost.json, paced-cost.json, kyverno.json; each with the commit it was measured on): the summary's sentences as
 * well as the tables. Each generated part
 * sits between `<!-- generated:NAME -->` and `<!-- /generated:NAME -->`; `--check` fails when the
 * page drifted from the results (the drift test runs the same comparison).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderE2e, type E2eResults } from './e2e-report.js';
import { renderImage, type ImageResults } from './image-report.js';
import { renderKyvernoMarkdown, type KyvernoResults } from './kyverno/report.js';
import {
  renderComparison,
  renderLatest,
  renderLatestNotes,
  renderPacedCost,
  renderRuleCost,
  renderSummary,
  type PacedCostResults,
  type RuleCostResults,
} from './perf-tables.js';
import type { Results } from './report.js';

const ROOT = join(import.meta.dirname, '..');
const PAGE = join(ROOT, 'docs', 'performance.md');

/** A results file, parsed, or undefined when that bench has not written it. */
function results<T>(name: string): T | undefined {
  const file = join(ROOT, 'bench', 'results', name);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as T) : undefined;
}

/** The API server and Helm section, from e2e.json. */
function e2ePart(e2e: E2eResults, before: E2eResults | undefined): string {
  // The page has its own heading: the report's title becomes a sentence.
  const stamp = `Measured ${e2e.generatedAt.slice(0, 16).replace('T', ' ')} UTC on commit ${e2e.commit} (bench/results/e2e.json).`;
  return `${stamp}\n${underPageHeading(renderE2e(e2e, before))}`;
}

/** A report's Markdown under the page's own heading: its title dropped, its sections one level down. */
function underPageHeading(md: string): string {
  const [, ...body] = md.split('\n');
  return body
    .map((l) => l.replace(/^## /, '#### '))
    .join('\n')
    .trim();
}

/** The generated parts, by name, from the recorded results (a part whose results are absent is left as it is). */
export function generatedParts(): Record<string, string> {
  const parts: Record<string, string> = {};
  const latest = results<Results>('latest.json');
  const previous = results<Results>('previous.json');
  const e2e = results<E2eResults>('e2e.json');
  const ruleCost = results<RuleCostResults>('rule-cost.json');
  const paced = results<PacedCostResults>('paced-cost.json');
  const kyverno = results<KyvernoResults>('kyverno.json');
  const image = results<ImageResults>('image.json');
  if (latest) {
    parts.summary = renderSummary(latest, kyverno);
    parts.latest = renderLatest(latest);
    parts['latest-notes'] = renderLatestNotes(latest);
  }
  if (latest && previous) parts.compare = renderComparison(latest, previous);
  if (e2e) parts.e2e = e2ePart(e2e, results<E2eResults>('e2e-previous.json'));
  if (ruleCost) parts['rule-cost'] = renderRuleCost(ruleCost);
  if (paced) parts['paced-cost'] = renderPacedCost(paced);
  if (kyverno) parts.kyverno = underPageHeading(renderKyvernoMarkdown(kyverno));
  if (image) parts.image = renderImage(image);
  return parts;
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
