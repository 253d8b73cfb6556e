// Writes docs/policies.md from the policy catalog; with --check, fails when the file has drifted.
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { policiesMarkdown } from '../src/cli/policies.js';

const target = resolve(import.meta.dirname, '../docs/policies.md');
const want = policiesMarkdown();
if (process.argv.includes('--check')) {
  let have = '';
  try {
    have = readFileSync(target, 'utf8');
  } catch {
    // missing counts as drift
  }
  if (have !== want) {
    process.stderr.write('docs/policies.md is out of date: run `npm run docs`\n');
    process.exit(1);
  }
} else {
  writeFileSync(target, want);
  process.stdout.write(`wrote ${target}\n`);
}
