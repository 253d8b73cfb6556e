import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { cli } from '../helpers/cli.js';

const TOKEN = 'kubeconfig-token-5f1c2a9e';

/** A kubeconfig with two contexts on `server`, and `current` as current-context when given. */
function kubeconfig(server: string, current?: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'gg-audit-')), 'kubeconfig');
  const ctx = (name: string) => ({ name, context: { cluster: 'c', user: 'u' } });
  writeFileSync(
    file,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'c', cluster: { server } }],
      users: [{ name: 'u', user: { token: TOKEN } }],
      contexts: [ctx('mgmt'), ctx('workload-1')],
      ...(current ? { 'current-context': current } : {}),
    }),
  );
  return file;
}

describe('gloo-guard audit: kubeconfigs it cannot use', () => {
  it('when the kubeconfig has no current-context and none is named, then exit 2 says how to choose one', () => {
    const file = kubeconfig('https://127.0.0.1:1');
    const r = cli(['audit', '--kubeconfig', file]);
    expect(r.code).toBe(2);
    const first = r.stderr.split('\n')[0];
    expect(first).toBe(
      `gloo-guard: the kubeconfig ${file} has no current-context; name one with --context NAME ` +
        '(known: mgmt, workload-1), use --all-contexts, or run kubectl config use-context NAME',
    );
    expect(r.stdout).toBe('');
  });

  it('when a context is not in the kubeconfig, then exit 2 lists the known ones', () => {
    const r = cli(['audit', '--kubeconfig', kubeconfig('https://127.0.0.1:1', 'mgmt'), '--context', 'prod']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no context "prod" in the kubeconfig (known: mgmt, workload-1)');
  });

  it('when the server is plain http without insecure-skip-tls-verify, then exit 2 names the server and the reason, not an internal error', () => {
    const r = cli(['audit', '--kubeconfig', kubeconfig('http://127.0.0.1:1', 'mgmt')]);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain(
      "ERROR mgmt: cannot audit cluster: cannot use the kubeconfig's settings for http://127.0.0.1:1: " +
        'an http:// server needs insecure-skip-tls-verify: true in its cluster entry',
    );
    expect(`${r.stdout}${r.stderr}`).not.toMatch(/internal error|\n\s+at /);
    expect(`${r.stdout}${r.stderr}`).not.toContain(TOKEN);
  });
});

describe('gloo-guard audit: report options', () => {
  it('when --reports-api names no report API, then exit 2 lists the ones there are', () => {
    const r = cli([
      'audit',
      '--write-reports',
      '--reports-api',
      'kyverno.io',
      '--kubeconfig',
      '/nonexistent',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe(
      'gloo-guard: --reports-api must be one of wgpolicyk8s.io, openreports.io, not "kyverno.io"',
    );
  });
});
