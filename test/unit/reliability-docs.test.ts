/**
 * docs/reliability.md's figure tables come from the stored measurements (issue 16 point 8): the page
 * must be what scripts/gen-reliability.ts renders from docs/reliability-figures.json, and the figures
 * must say where and when they were measured.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { reliabilityPage, type DecodeFigures } from '../../scripts/reliability-figures.js';

const ROOT = resolve(import.meta.dirname, '../..');
const page = readFileSync(resolve(ROOT, 'docs/reliability.md'), 'utf8');
const figures = JSON.parse(readFileSync(resolve(ROOT, 'docs/reliability-figures.json'), 'utf8')) as {
  decode: DecodeFigures;
};

describe('docs/reliability.md figures', () => {
  it('when the page is rendered from the stored figures, then nothing changes (npm run docs:reliability)', async () => {
    expect(page).toBe(await reliabilityPage(page));
  });

  it('when the figures are read, then they name a commit of this repository, the load and every case before and after', () => {
    const d = figures.decode;
    expect(execFileSync('git', ['cat-file', '-t', d.commit], { cwd: ROOT, encoding: 'utf8' }).trim()).toBe(
      'commit',
    );
    expect(d.loadAverage).toHaveLength(3);
    for (const name of Object.keys(d.cases)) {
      expect(d.after[name]?.outcome).toBeTruthy();
      expect(d.before?.[name]?.outcome).toBeTruthy();
    }
  });
});
