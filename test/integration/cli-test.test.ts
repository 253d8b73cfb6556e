/** `gloo-guard test`, `gloo-guard policies --config` and the check outputs with rules, through the real CLI. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.js';

const EXAMPLES = 'examples/rules';
const CONFIG = resolve('examples/rules/config.yaml');
let dir: string;

function file(name: string, content: string): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gg-test-'));
});

describe('gloo-guard test', () => {
  it('when the example rules are tested, then every verdict is as expected and it exits 0', () => {
    const r = cli(['test', EXAMPLES]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^(\d+) of \1 verdicts as expected$/m);
    for (const id of [
      'mgmt-server-replicas',
      'relay-internal-dns',
      'addons-image-registry',
      'mgmt-server-memory-limit',
      'gloo-mesh-container-limits',
    ]) {
      expect(r.stdout).toContain(`: ${id} fail`);
      expect(r.stdout).toContain(`: ${id} pass`);
    }
  });

  it('when a verdict differs, then it exits 1 and shows the message behind it, also as JUnit', () => {
    file(
      'wrong.test.yaml',
      [
        `config: ${CONFIG}`,
        'tests:',
        '  - name: claims a public relay passes',
        '    chart: gloo-platform',
        '    chartVersion: 2.5.0',
        '    values:',
        '      - glooAgent: { enabled: true, relay: { serverAddress: mgmt.example.org:9900 } }',
        '    expect:',
        '      relay-internal-dns: pass',
      ].join('\n'),
    );
    const r = cli(['test', join(dir, 'wrong.test.yaml')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('FAIL');
    expect(r.stdout).toContain('relay-internal-dns want pass, got fail');
    expect(r.stdout).toContain(
      '[relay-internal-dns] relay address "mgmt.example.org:9900" is outside internal.example.com (glooAgent.relay.serverAddress)',
    );
    const junit = cli(['test', join(dir, 'wrong.test.yaml'), '--output', 'junit']);
    expect(junit.code).toBe(1);
    expect(junit.stdout).toMatch(/<testsuite name="[^"]*wrong\.test\.yaml" tests="1" failures="1"/);
    expect(junit.stdout).toContain('<failure message="want pass, got fail">');
  });

  it('when the JUnit report of the examples is asked for, then every case passes', () => {
    const r = cli(['test', EXAMPLES, '-o', 'junit']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/failures="0"/);
    expect(r.stdout).not.toContain('<failure');
  });

  it.each([
    [
      'an unknown rule id',
      'tests:\n  - manifests: [{kind: Namespace, apiVersion: v1, metadata: {name: x}}]\n    expect: {nope: pass}\n',
      'unknown policy or rule id "nope"',
    ],
    [
      'a bad verdict',
      `config: ${CONFIG}\ntests:\n  - manifests: [{kind: Namespace, apiVersion: v1, metadata: {name: x}}]\n    expect: {relay-internal-dns: denied}\n`,
      'must be one of pass, fail, error, skip, not "denied"',
    ],
    [
      'values without a chart',
      'tests:\n  - values: [{a: 1}]\n    expect: {no-insecure-relay: pass}\n',
      'values need a chart',
    ],
    ['YAML that does not parse', 'tests: [\n', 'not valid YAML'],
  ])('when a test file has %s, then it exits 2 with one line naming the file', (_what, text, message) => {
    const f = file('bad.test.yaml', text);
    const r = cli(['test', f]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(f);
    expect(r.stderr).toContain(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('rules in the other CLI commands', () => {
  it('when policies is given the config, then the rules are listed after the built-ins', () => {
    const r = cli(['policies', '--config', CONFIG, '--output', 'json']);
    expect(r.code).toBe(0);
    const list = JSON.parse(r.stdout) as Array<{ id: string; defaultAction: string }>;
    expect(list.at(-1)).toMatchObject({ id: 'gloo-mesh-container-limits', defaultAction: 'deny' });
    expect(list.find((p) => p.id === 'mgmt-server-memory-limit')?.defaultAction).toBe('warn');
  });

  it('when check meets a rule violation, then SARIF names the rule and JUnit fails it', () => {
    const values = file(
      'agent.yaml',
      'glooAgent:\n  enabled: true\n  relay:\n    serverAddress: mgmt.example.org:9900\n',
    );
    const args = [
      'check',
      '--config',
      CONFIG,
      '--chart',
      'gloo-platform',
      '--chart-version',
      '2.5.0',
      values,
    ];
    const sarif = cli([...args, '--output', 'sarif']);
    expect(sarif.code).toBe(1);
    const doc = JSON.parse(sarif.stdout) as {
      runs: Array<{ tool: { driver: { rules: Array<{ id: string }> } }; results: Array<{ ruleId: string }> }>;
    };
    expect(doc.runs[0]?.tool.driver.rules.map((x) => x.id)).toContain('relay-internal-dns');
    expect(doc.runs[0]?.results.map((x) => x.ruleId)).toContain('relay-internal-dns');
    const junit = cli([...args, '--output', 'junit']);
    expect(junit.stdout).toContain('<failure type="relay-internal-dns"');
  });
});
