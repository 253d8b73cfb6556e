// Renders the figure tables of docs/reliability.md from docs/reliability-figures.json; with --check,
// fails when the page has drifted from the stored figures.
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { reliabilityPage } from './reliability-figures.js';

const page = resolve(import.meta.dirname, '../docs/reliability.md');
const have = readFileSync(page, 'utf8');
const want = await reliabilityPage(have);
if (process.argv.includes('--check')) {
  if (have !== want) {
    process.stderr.write('docs/reliability.md is out of date: run `npm run docs:reliability`\n');
    process.exit(1);
  }
} else {
  writeFileSync(page, want);
  process.stdout.write(`wrote ${page}\n`);
}
