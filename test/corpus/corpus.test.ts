// The real-world corpus (issue 12): every public values file through `gloo-guard check`, verdict against corpus.yaml.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.js';
import {
  checkArgs,
  corpusMarkdown,
  loadCorpus,
  mismatches,
  runCorpus,
  runOf,
  type CorpusEntry,
  type CorpusRun,
} from './corpus.js';

const entries = loadCorpus();
let runs: CorpusRun[] = [];

beforeAll(() => {
  runs = runCorpus(entries);
});

describe('the public Gloo Mesh values corpus through gloo-guard check', () => {
  it('when corpus.yaml is read, then it holds at least 40 files, each with repository, path and a full commit', () => {
    expect(entries.length).toBeGreaterThanOrEqual(40);
    for (const e of entries) {
      expect(e.commit, e.file).toMatch(/^[0-9a-f]{40}$/);
      expect(e.repository, e.file).toMatch(/^[\w.-]+\/[\w.-]+$/);
      expect(e.path, e.file).not.toBe('');
    }
  });

  it.each(entries.map((e, i) => [e.file, i] as const))(
    'when %s is checked, then the verdict is the expected one',
    (_file, i) => {
      const e: CorpusEntry = entries[i]!;
      const run = runs[i]!;
      expect(run.stderr, 'check printed no error').toBe('');
      expect(mismatches(e, run), `gloo-guard ${checkArgs(e).join(' ')}`).toEqual([]);
    },
  );

  it('when corpus files run through the real CLI process, then it says what the batch said', () => {
    // Two processes keep the test quick on a loaded machine: a plain values file and the umbrella (--subchart).
    const sample = [
      entries.findIndex((e) => e.kind === 'values' && e.expect.length > 0),
      entries.findIndex((e) => e.kind === 'umbrella'),
    ];
    for (const i of sample) {
      const e = entries[i]!;
      const r = cli(checkArgs(e));
      expect(r.stderr, e.file).toBe('');
      expect(runOf(r), e.file).toEqual(runs[i]);
    }
  });

  it('when the corpus has run, then docs/corpus.md shows that run (npm run docs)', () => {
    const have = readFileSync(resolve(import.meta.dirname, '../../docs/corpus.md'), 'utf8');
    expect(have, 'docs/corpus.md drifted from the corpus run: run `npm run docs`').toBe(
      corpusMarkdown(entries, runs),
    );
  });
});
