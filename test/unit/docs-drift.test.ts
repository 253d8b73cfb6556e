import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { policiesMarkdown } from '../../src/cli/policies.js';
import { POLICIES } from '../../src/policies/index.js';
import { cli } from '../helpers/cli.js';

describe('generated policy docs', () => {
  it('when the catalog changes, then docs/policies.md must be regenerated (npm run docs)', () => {
    const have = readFileSync(resolve(import.meta.dirname, '../../docs/policies.md'), 'utf8');
    expect(have, 'docs/policies.md drifted from src/policies: run `npm run docs`').toBe(policiesMarkdown());
  });

  it('when `gloo-guard policies -o markdown` runs, then it prints the same reference', () => {
    const r = cli(['policies', '--output', 'markdown']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(policiesMarkdown());
  });

  it('when `gloo-guard policies -o json` runs, then every policy carries its metadata', () => {
    const list = JSON.parse(cli(['policies', '-o', 'json']).stdout) as Array<Record<string, unknown>>;
    expect(list.map((p) => p.id)).toEqual(POLICIES.map((p) => p.id));
    for (const p of list) {
      for (const key of ['title', 'severity', 'defaultAction', 'description', 'remediation'])
        expect(p[key], `${String(p.id)}.${key}`).toBeTruthy();
    }
  });

  it('when policies are listed, then ids are kebab-case and equal their file names', () => {
    for (const p of POLICIES) {
      expect(p.id).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
      const src = readFileSync(resolve(import.meta.dirname, `../../src/policies/${p.id}.ts`), 'utf8');
      expect(src).toContain(`id: '${p.id}'`);
    }
  });
});
