// Writes docs/policies.md from the policy catalog, docs/corpus.md from a `gloo-guard check` run of the
// real-world corpus, and examples/rules/policies.md (the same page with the example rules, as
// `gloo-guard policies --config examples/rules/config.yaml -o markdown` prints it); with --check,
// fails when any file has drifted.
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { policiesMarkdown } from '../src/cli/policies.js';
import { parseConfig } from '../src/config/load.js';
import { catalogOf } from '../src/rules/catalog.js';
import { corpusMarkdown, loadCorpus, runCorpus } from '../test/corpus/corpus.js';

const root = resolve(import.meta.dirname, '..');
const EXAMPLES_CONFIG = 'examples/rules/config.yaml';
const examples = parseConfig(readFileSync(resolve(root, EXAMPLES_CONFIG), 'utf8'), EXAMPLES_CONFIG);
const corpus = loadCorpus();
const targets: Array<[string, string]> = [
  ['docs/policies.md', policiesMarkdown()],
  ['docs/corpus.md', corpusMarkdown(corpus, runCorpus(corpus))],
  ['examples/rules/policies.md', policiesMarkdown(catalogOf(examples), examples.rules, EXAMPLES_CONFIG)],
];

if (process.argv.includes('--check')) {
  let drifted = false;
  for (const [name, want] of targets) {
    let have = '';
    try {
      have = readFileSync(resolve(root, name), 'utf8');
    } catch {
      // missing counts as drift
    }
    if (have !== want) {
      process.stderr.write(`${name} is out of date: run \`npm run docs\`\n`);
      drifted = true;
    }
  }
  if (drifted) process.exit(1);
} else {
  for (const [name, want] of targets) {
    writeFileSync(resolve(root, name), want);
    process.stdout.write(`wrote ${resolve(root, name)}\n`);
  }
}
