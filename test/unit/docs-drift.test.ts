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

  it('when the example rules change, then examples/rules/policies.md must be regenerated (npm run docs), and the CLI prints it', () => {
    const r = cli(['policies', '--config', 'examples/rules/config.yaml', '--output', 'markdown']);
    expect(r.code).toBe(0);
    const have = readFileSync(resolve(import.meta.dirname, '../../examples/rules/policies.md'), 'utf8');
    expect(have, 'examples/rules/policies.md drifted: run `npm run docs`').toBe(r.stdout);
    // The built-ins' page, then each rule with what a reader needs to judge it.
    expect(r.stdout).toContain(policiesMarkdown().split('\n## ')[1]);
    const rule = r.stdout.slice(r.stdout.indexOf('## mgmt-server-memory-limit'));
    for (const part of [
      '| medium | warn | release |',
      '**Matches:** chart families gloo-platform; chart versions `>=2.4.0`.',
      '**Path:** `glooMgmtServer.resources.limits.memory`',
      'quantity(string(values.glooMgmtServer.resources.limits.memory)).compareTo(',
      '**Message:** the management server has no memory limit, or one below its memory request',
      '**Fix:** set glooMgmtServer.resources.limits.memory at or above glooMgmtServer.resources.requests.memory',
    ])
      expect(rule).toContain(part);
    expect(r.stdout).toContain('| [`gloo-mesh-container-limits`](#gloo-mesh-container-limits) |');
    expect(policiesMarkdown()).not.toContain('gloo-mesh-container-limits');
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
