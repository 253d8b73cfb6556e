import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config/load.js';
import { isDenied } from '../../src/engine/evaluate.js';
import { judge } from '../fixtures/judge.js';
import { releaseFromValues } from '../../src/engine/subjects.js';
import type { ReleaseSubject } from '../../src/engine/types.js';

const RULE = [
  'rules:',
  '  - id: relay-internal-dns',
  '    title: Relay addresses use our internal DNS zone',
  '    severity: high',
  '    appliesTo: [release]',
  '    match:',
  '      families: [gloo-platform]',
  '    expression: |',
  '      !has(values.glooAgent.relay.serverAddress) ||',
  '      values.glooAgent.relay.serverAddress.split(":")[0].endsWith(".internal.example.com")',
  "    messageExpression: \"'relay address ' + values.glooAgent.relay.serverAddress + ' is outside internal.example.com'\"",
  '    path: glooAgent.relay.serverAddress',
  '    remediation: use the management server name in internal.example.com',
].join('\n');

function agent(address: string): ReleaseSubject {
  const s = releaseFromValues({
    chart: 'gloo-platform',
    chartVersion: '2.5.0',
    namespace: 'gloo-mesh',
    values: [{ glooAgent: { enabled: true, relay: { serverAddress: address } } }],
    source: { location: 'values.yaml' },
  });
  if (!s) throw new Error('no subject');
  return s;
}

function errorOf(text: string): string {
  try {
    parseConfig(text, 'cfg.yaml');
  } catch (err: unknown) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  throw new Error('the config was accepted');
}

describe('rules in the config', () => {
  it('when a rule fails, then the finding reads [rule-id] message (path) -> remediation', () => {
    const config = parseConfig(RULE, 'cfg.yaml');
    const result = judge(agent('mgmt.example.org:9900'), config);
    expect(result.findings.map((f) => f.message)).toEqual([
      '[relay-internal-dns] relay address mgmt.example.org:9900 is outside internal.example.com ' +
        '(glooAgent.relay.serverAddress) -> use the management server name in internal.example.com',
    ]);
    expect(isDenied(result, config)).toBe(true);
    expect(judge(agent('mgmt.internal.example.com:9900'), config).findings).toEqual([]);
  });

  it('when an exception names the rule, or the mode is audit, then the rule is treated as a built-in is', () => {
    const exempt = parseConfig(
      `${RULE}\nexceptions:\n  - policy: relay-internal-dns\n    namespace: gloo-mesh\n    reason: lab\n`,
      'cfg.yaml',
    );
    const r = judge(agent('mgmt.example.org:9900'), exempt);
    expect(r.findings).toEqual([]);
    expect(r.exempted.map((e) => e.policy)).toEqual(['relay-internal-dns']);
    const audit = parseConfig(`mode: audit\n${RULE}`, 'cfg.yaml');
    expect(judge(agent('mgmt.example.org:9900'), audit).findings.map((f) => f.action)).toEqual(['warn']);
    const off = parseConfig(`${RULE}\npolicies:\n  relay-internal-dns:\n    action: off\n`, 'cfg.yaml');
    expect(judge(agent('mgmt.example.org:9900'), off).findings).toEqual([]);
  });

  it('when a rule errs at run time, then it is an error for onError, never a pass', () => {
    const config = parseConfig(
      RULE.replace('!has(values.glooAgent.relay.serverAddress) ||', 'values.nope.x ||'),
      'cfg.yaml',
    );
    const r = judge(agent('mgmt.example.org:9900'), config);
    expect(r.findings).toEqual([]);
    expect(r.errors).toHaveLength(1);
    // Issue 15: a failing policy is named with its error type; the text goes to the log only.
    expect(r.errors[0]?.message).toMatch(/relay-internal-dns failed to run \(CelEvalError\)/);
    expect(isDenied(r, config)).toBe(true);
  });

  it('when the chart family does not match, then the rule does not judge the release', () => {
    const config = parseConfig(RULE.replace('[gloo-platform]', '[gloo-mesh-agent]'), 'cfg.yaml');
    expect(judge(agent('mgmt.example.org:9900'), config).findings).toEqual([]);
  });

  it('when match.versions excludes the chart version, then the rule does not judge it', () => {
    const within = parseConfig(RULE.replace('families: [gloo-platform]', 'versions: ">=2.4.0 <2.6.0"'), 'c');
    expect(judge(agent('a.example.org:9900'), within).findings).toHaveLength(1);
    const outside = parseConfig(RULE.replace('families: [gloo-platform]', 'versions: ">=2.6.0"'), 'c');
    expect(judge(agent('a.example.org:9900'), outside).findings).toEqual([]);
  });

  it.each([
    [
      'a CEL syntax error on the second line of a block',
      RULE.replace(
        'values.glooAgent.relay.serverAddress.split(":")[0]',
        'values.glooAgent.relay.serverAddress.split(":")[0] &&&',
      ),
      'cfg.yaml:10: rules[0] (relay-internal-dns).expression:',
    ],
    [
      'an unknown variable',
      RULE.replace('!has(values.glooAgent.relay.serverAddress) ||', 'vals.x ||'),
      "cfg.yaml:9: rules[0] (relay-internal-dns).expression: undeclared reference to 'vals'",
    ],
    [
      'an unknown function in the messageExpression',
      RULE.replace("+ ' is outside", ".shout() + ' is outside"),
      "cfg.yaml:11: rules[0] (relay-internal-dns).messageExpression: found no function or method named 'shout'",
    ],
    [
      'a built-in id',
      RULE.replace('relay-internal-dns', 'no-insecure-relay'),
      'cfg.yaml:2: rules[0] (no-insecure-relay).id "no-insecure-relay" is a built-in policy id',
    ],
    [
      'an id that is not kebab-case',
      RULE.replace('relay-internal-dns', 'Relay_DNS'),
      'cfg.yaml:2: rules[0] (Relay_DNS).id must be kebab-case',
    ],
    [
      'a missing remediation',
      RULE.split('\n').slice(0, -1).join('\n'),
      'cfg.yaml:2: rules[0] (relay-internal-dns).remediation is required',
    ],
    [
      'an unknown kind',
      RULE.replace('[release]', '[pod]'),
      'cfg.yaml:5: rules[0] (relay-internal-dns).appliesTo[0] must be one of release, namespace, deployment, service, not "pod"',
    ],
    [
      'a bad version range',
      RULE.replace('families: [gloo-platform]', 'versions: "newer than 2.4"'),
      'cfg.yaml:7: rules[0] (relay-internal-dns).match.versions must be comparators',
    ],
  ])('when the config has %s, then the error names the rule and the line', (_what, text, want) => {
    expect(errorOf(text)).toContain(want);
  });

  it('when two rules share an id, then the second is refused', () => {
    const second = RULE.split('\n').slice(1).join('\n');
    expect(errorOf(`${RULE}\n${second}`)).toContain(
      'cfg.yaml:14: rules[1] (relay-internal-dns).id "relay-internal-dns" is used by another rule',
    );
  });
});
