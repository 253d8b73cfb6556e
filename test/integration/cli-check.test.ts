import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { releaseSecret } from '../../src/helm/release.js';
import { POLICIES } from '../../src/policies/index.js';
import { cli } from '../helpers/cli.js';

const V = 'test/fixtures/values';
let dir: string;

function file(name: string, content: string): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

function release(chart: string, version: string, config: Record<string, unknown>, namespace = 'gloo-mesh') {
  return releaseSecret({
    name: chart,
    namespace,
    version: 2,
    info: { status: 'pending-upgrade' },
    chart: { metadata: { name: chart, version }, values: {} },
    config,
  } as never);
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gg-cli-'));
});

describe('gloo-guard check on values files', () => {
  it.each([
    ['gloo-mesh-enterprise', 'enterprise-production.yaml', 'gloo-mesh'],
    ['gloo-mesh-agent', 'agent-production.yaml', 'gloo-mesh'],
    ['gloo-mesh-agent', 'agent-addons-production.yaml', 'gloo-mesh-addons'],
    ['gloo-platform', 'platform-mgmt-production.yaml', 'gloo-mesh'],
    ['gloo-platform', 'platform-agent-production.yaml', 'gloo-mesh'],
    ['gloo-platform', 'platform-addons-production.yaml', 'gloo-mesh-addons'],
  ])('when %s values are production-ready (%s), then nothing is reported and it exits 0', (chart, f, ns) => {
    const r = cli(['check', '--chart', chart, '--namespace', ns, join(V, f), '--output', 'json']);
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout);
    expect(out.violations).toEqual([]);
    expect(out.errors).toEqual([]);
    expect(r.code).toBe(0);
  });

  it('when the gloo-mesh-enterprise values are empty, then exactly the violations its defaults deserve are reported', () => {
    const r = cli(['check', '--chart', 'gloo-mesh-enterprise', file('empty.yaml', ''), '-o', 'json']);
    const out = JSON.parse(r.stdout);
    expect(
      out.violations.map(
        (v: { policy: string; path: string; action: string }) => `${v.action} ${v.policy} ${v.path}`,
      ),
    ).toEqual([
      'deny no-default-relay-ca glooMeshMgmtServer.relay.disableCaCertGeneration',
      'deny no-bundled-redis glooMeshRedis.enabled',
      'deny no-bundled-prometheus prometheus.enabled',
      'warn ui-oidc-auth glooMeshUi.auth.enabled',
      'warn mgmt-server-internal-lb glooMeshMgmtServer.serviceOverrides.metadata.annotations',
    ]);
    expect(out.summary).toMatchObject({ objects: 1, violations: 5, denied: 3, warned: 2, errors: 0 });
    expect(r.code).toBe(1);
  });

  it('when several values files are given, then they merge in order like helm -f a -f b', () => {
    const base = join(V, 'enterprise-production.yaml');
    const over = file('insecure.yaml', 'insecure: true\n');
    const r = cli(['check', '--chart', 'gloo-mesh-enterprise', base, over, '-o', 'json']);
    expect(JSON.parse(r.stdout).violations.map((v: { policy: string }) => v.policy)).toEqual([
      'no-insecure-relay',
    ]);
    const back = cli(['check', '--chart', 'gloo-mesh-enterprise', over, base, '-o', 'json']);
    expect(JSON.parse(back.stdout).violations).toEqual([]);
  });

  it('when text output is asked for, then each violation shows its action, id, path and fix, and a summary closes', () => {
    const r = cli([
      'check',
      '--chart',
      'gloo-mesh-enterprise',
      join(V, 'enterprise-production.yaml'),
      file('i.yaml', 'insecure: true'),
    ]);
    expect(r.stdout).toContain(
      'DENY [no-insecure-relay] relay runs without mTLS because insecure is true (insecure) -> set insecure: false',
    );
    expect(r.stdout).toMatch(/1 judged, 1 denied, 0 warnings/);
    expect(r.stdout).not.toContain('\x1b[');
    expect(r.code).toBe(1);
  });

  it('when Node may not generate code (--disallow-code-generation-from-strings), then the built-in checks still judge, through CEL', () => {
    const deployment = (name: string, inject: string): string =>
      stringify({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name, namespace: 'gloo-mesh' },
        spec: { template: { metadata: { labels: { 'sidecar.istio.io/inject': inject } } } },
      });
    const files = [file('on.yaml', deployment('web', 'true')), file('off.yaml', deployment('api', 'false'))];
    const policies = (nodeOptions: string[]): string[] => {
      const r = cli(['check', ...files, '-o', 'json'], undefined, nodeOptions);
      return (
        JSON.parse(r.stdout) as { violations: Array<{ policy: string; source: string }> }
      ).violations.map((v) => `${v.policy} ${v.source}`);
    };
    const judged = policies(['--disallow-code-generation-from-strings']);
    expect(judged).toContain(`no-injection-in-gloo-mesh ${join(dir, 'on.yaml')}:1`);
    expect(judged.some((v) => v.includes('off.yaml') && v.startsWith('no-injection'))).toBe(false);
    expect(judged).toEqual(policies([]));
  });

  it('when values come on stdin, then "-" reads them', () => {
    const r = cli(['check', '--chart', 'gloo-platform', '-', '-o', 'json'], 'common:\n  insecure: true\n');
    expect(JSON.parse(r.stdout).violations.map((v: { path: string }) => v.path)).toContain('common.insecure');
  });
});

describe('gloo-guard check on manifests and release Secrets', () => {
  it('when a List from kubectl and helm template output are checked, then objects are found in both', () => {
    const list = stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: [
        {
          apiVersion: 'v1',
          kind: 'Namespace',
          metadata: { name: 'gloo-mesh', labels: { 'istio-injection': 'enabled' } },
        },
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'gloo-mesh' } },
      ],
    });
    const tpl =
      '---\n# Source: x\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: gloo-mesh-redis\n  namespace: gloo-mesh\n';
    const r = cli(['check', file('list.yaml', list), file('tpl.yaml', tpl), '-o', 'json']);
    const out = JSON.parse(r.stdout);
    expect(out.violations.map((v: { policy: string; source: string }) => `${v.policy} ${v.source}`)).toEqual([
      `no-injection-in-gloo-mesh ${join(dir, 'list.yaml')}:1 items[0]`,
      `no-bundled-redis ${join(dir, 'tpl.yaml')}:3`,
    ]);
    expect(out.summary.skipped).toBe(1);
    expect(r.code).toBe(1);
  });

  it('when a Helm release Secret is checked, then its chart defaults and user values are judged', () => {
    const s = release('gloo-platform', '2.4.3', { glooMgmtServer: { enabled: true, insecure: true } });
    const r = cli(['check', file('rel.yaml', stringify(s)), '-o', 'json']);
    const out = JSON.parse(r.stdout);
    expect(out.violations[0].object).toBe(
      'release gloo-mesh/gloo-platform (chart gloo-platform 2.4.3 revision 2)',
    );
    expect(out.violations.map((v: { path: string }) => v.path)).toContain('glooMgmtServer.insecure');
  });

  it('when a release of another chart is checked beside a Gloo Mesh one, then only the Gloo Mesh one is judged', () => {
    const other = stringify(release('nginx', '1.0.0', { insecure: true }, 'web'));
    const ours = stringify(release('gloo-mesh-enterprise', '2.1.4', {}));
    const r = cli(['check', file('other.yaml', `${other}---\n${ours}`), '-o', 'json']);
    expect(JSON.parse(r.stdout).summary).toMatchObject({ objects: 1, skipped: 1 });
  });

  it('when the config sets audit mode, then every violation is a warning and the exit is 0', () => {
    const cfg = file('audit.yaml', 'mode: audit\n');
    const r = cli([
      'check',
      '--chart',
      'gloo-mesh-enterprise',
      file('e.yaml', ''),
      '--config',
      cfg,
      '-o',
      'json',
    ]);
    const out = JSON.parse(r.stdout);
    expect(out.violations.length).toBe(5);
    expect(out.violations.every((v: { action: string }) => v.action === 'warn')).toBe(true);
    expect(r.code).toBe(0);
  });

  it('when an exception covers a policy, then it is not reported and the summary counts it', () => {
    const cfg = file(
      'ex.yaml',
      'exceptions:\n  - policy: no-bundled-prometheus\n    namespace: gloo-mesh\n    reason: staging until the shared Prometheus is ready\n',
    );
    const r = cli([
      'check',
      '--chart',
      'gloo-mesh-enterprise',
      '-n',
      'gloo-mesh',
      file('e2.yaml', ''),
      '-c',
      cfg,
      '-o',
      'json',
    ]);
    const out = JSON.parse(r.stdout);
    expect(out.violations.map((v: { policy: string }) => v.policy)).not.toContain('no-bundled-prometheus');
    expect(out.summary.exceptions).toBe(1);
  });
});

describe('gloo-guard check output formats', () => {
  const args = () => ['check', '--chart', 'gloo-mesh-enterprise', file('f.yaml', 'insecure: true\n')];

  it('when sarif is asked for, then results carry rule ids and levels', () => {
    const out = JSON.parse(cli([...args(), '-o', 'sarif']).stdout);
    expect(out.version).toBe('2.1.0');
    const results = out.runs[0].results as Array<{ ruleId: string; level: string }>;
    expect(results.find((x) => x.ruleId === 'no-insecure-relay')?.level).toBe('error');
    expect(results.find((x) => x.ruleId === 'ui-oidc-auth')?.level).toBe('warning');
    expect(out.runs[0].tool.driver.rules.length).toBe(POLICIES.length);
  });

  it('when junit is asked for, then each denial is a failing test case', () => {
    const xml = cli([...args(), '-o', 'junit']).stdout;
    expect(xml).toContain('<testsuites name="gloo-guard">');
    expect(xml).toMatch(
      /<testsuite name="release gloo-mesh-enterprise \(chart gloo-mesh-enterprise\)" tests="5" failures="3"/,
    );
    expect(xml).toContain('<failure type="no-insecure-relay"');
  });
});

describe('gloo-guard check on bad input', () => {
  const oneLine = (s: string) => s.trim().split('\n').length === 1;

  it('when the YAML is malformed, then exit 2 names the file and line', () => {
    const r = cli(['check', '--chart', 'gloo-platform', file('bad.yaml', 'a: 1\nb: [\n')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`${join(dir, 'bad.yaml')}:\\d+: not valid YAML`));
    expect(oneLine(r.stderr)).toBe(true);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('when --chart names a chart gloo-guard does not judge, then exit 2 says which charts it knows', () => {
    const r = cli(['check', '--chart', 'nginx', file('v.yaml', '')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--chart nginx is not a chart gloo-guard judges (gloo-mesh-enterprise 2.x');
  });

  it('when a release Secret is corrupt, then exit 2 names the object and the problem', () => {
    const s = release('gloo-platform', '2.4.3', {});
    s.data.release = Buffer.from('not base64 at all!').toString('base64');
    const r = cli(['check', file('corrupt.yaml', stringify(s)), '-o', 'json']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout).errors[0].message).toBe(
      'Secret sh.helm.release.v1.gloo-platform.v2: release payload is not valid base64',
    );
  });

  it('when a release Secret is a gzip bomb, then exit 2 names the limit', () => {
    const bomb = gzipSync(Buffer.alloc(200 << 20, 0x20)).toString('base64');
    const s = release('gloo-platform', '2.4.3', {});
    s.data.release = Buffer.from(bomb).toString('base64');
    const r = cli(['check', file('bomb.yaml', stringify(s))]);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('release expands past the limit of 67108864 bytes (limits.maxReleaseBytes)');
  });

  it('when the config is invalid, then exit 2 names the file, line and key', () => {
    const cfg = file('cfg.yaml', 'mode: enforce\npolicies:\n  no-such-policy:\n    action: deny\n');
    const r = cli(['check', '--chart', 'gloo-platform', file('v2.yaml', ''), '--config', cfg]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      `gloo-guard: ${cfg}:3: unknown policy id "no-such-policy" (run \`gloo-guard policies\` for the list)`,
    );
  });

  it('when a file does not exist or an option is unknown, then exit 2 with one line', () => {
    const missing = cli(['check', join(dir, 'nope.yaml')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim()).toBe(`gloo-guard: ${join(dir, 'nope.yaml')}: cannot read (no such file)`);
    const unknown = cli(['check', '--bogus', 'x']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.split('\n')[0]).toContain('unknown option --bogus');
  });
});
