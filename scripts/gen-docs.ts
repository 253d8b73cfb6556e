// Writes docs/policies.md from the policy catalog and docs/corpus.md from a `gloo-guard check` run of the
// real-world corpus; with --check, fails when either file has drifted.
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { policiesMarkdown } from '../src/cli/policies.js';
import { corpusMarkdown, loadCorpus, runCorpus } from '../test/corpus/corpus.js';

const docs = resolve(import.meta.dirname, '../docs');
const corpus = loadCorpus();
const targets: Array<[string, string]> = [
  ['policies.md', policiesMarkdown()],
  ['corpus.md', corpusMarkdown(corpus, runCorpus(corpus))],
];

if (process.argv.includes('--check')) {
  let drifted = false;
  for (const [name, want] of targets) {
    let have = '';
    try {
      have = readFileSync(resolve(docs, name), 'utf8');
    } catch {
      // missing counts as drift
    }
    if (have !== want) {
      process.stderr.write(`docs/${name} is out of date: run \`npm run docs\`\n`);
      drifted = true;
    }
  }
  if (drifted) process.exit(1);
} else {
  for (const [name, want] of targets) {
    writeFileSync(resolve(docs, name), want);
    process.stdout.write(`wrote ${resolve(docs, name)}\n`);
  }
}
