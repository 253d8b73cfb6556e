// Writes docs/policies.md from the policy catalog, and examples/rules/policies.md (the same page
// with the example rules, as `gloo-guard policies --config examples/rules/config.yaml -o markdown`
// prints it); with --check, fails when either has drifted.
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { policiesMarkdown } from '../src/cli/policies.js';
import { parseConfig } from '../src/config/load.js';
import { catalogOf } from '../src/rules/catalog.js';

/** The example rules' config and its generated page. */
export const EXAMPLES_CONFIG = 'examples/rules/config.yaml';

const root = resolve(import.meta.dirname, '..');
const examples = parseConfig(readFileSync(resolve(root, EXAMPLES_CONFIG), 'utf8'), EXAMPLES_CONFIG);
const targets: Array<[string, string]> = [
  ['docs/policies.md', policiesMarkdown()],
  ['examples/rules/policies.md', policiesMarkdown(catalogOf(examples), examples.rules, EXAMPLES_CONFIG)],
];
for (const [file, want] of targets) {
  const target = resolve(root, file);
  if (process.argv.includes('--check')) {
    let have = '';
    try {
      have = readFileSync(target, 'utf8');
    } catch {
      // missing counts as drift
    }
    if (have !== want) {
      process.stderr.write(`${file} is out of date: run \`npm run docs\`\n`);
      process.exitCode = 1;
    }
  } else {
    writeFileSync(target, want);
    process.stdout.write(`wrote ${target}\n`);
  }
}
