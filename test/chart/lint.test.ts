import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHART_DIR, helm, MAJORS, render, type K8sObject } from './helm.js';

const CI_FILES = readdirSync(join(CHART_DIR, 'ci')).filter((f) => f.endsWith('-values.yaml'));

describe('chart ci values', () => {
  it('when the ci folder is listed, then every notable configuration has a file', () => {
    expect(CI_FILES.sort()).toEqual([
      'audit-values.yaml',
      'cert-manager-values.yaml',
      'cluster-aware-values.yaml',
      'default-values.yaml',
      'provided-cert-values.yaml',
    ]);
  });
});

describe.each(MAJORS)('helm %s', (major) => {
  it('when asked its version, then it is the expected major', () => {
    const r = helm(major, ['version', '--short']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(major === 'v3' ? /^v3\./ : /^v4\./);
  });

  it.each(CI_FILES)('when %s is linted strictly, then it passes', (file) => {
    const r = helm(major, ['lint', '.', '--strict', '--values', `ci/${file}`]);
    expect(r.stdout + r.stderr).toContain('1 chart(s) linted, 0 chart(s) failed');
    expect(r.stdout).not.toMatch(/\[(WARNING|ERROR)\]/);
    expect(r.code).toBe(0);
  });
});

const byKindAndName = (objs: K8sObject[]): K8sObject[] =>
  [...objs].sort((a, b) => `${a.kind}/${a.metadata.name}`.localeCompare(`${b.kind}/${b.metadata.name}`));

describe('helm 3 and helm 4', () => {
  it.each(CI_FILES)('when %s is rendered, then both render the same objects', (file) => {
    const v3 = render('v3', { values: [`ci/${file}`] });
    const v4 = render('v4', { values: [`ci/${file}`] });
    expect(byKindAndName(v4)).toEqual(byKindAndName(v3));
  });

  it('when kinds are ordered, then both create the webhook configuration after the Deployment it calls', () => {
    // Helm 4 knows ValidatingWebhookConfiguration in its install order; Helm 3 sorts it with the
    // unknown kinds (last, alphabetically), so only the relative order to the workload is shared.
    for (const major of MAJORS) {
      const kinds = render(major, { values: ['ci/cert-manager-values.yaml'] }).map((o) => o.kind);
      expect(kinds.indexOf('ValidatingWebhookConfiguration')).toBeGreaterThan(kinds.indexOf('Deployment'));
      expect(kinds.indexOf('Deployment')).toBeGreaterThan(kinds.indexOf('ConfigMap'));
    }
  });
});
