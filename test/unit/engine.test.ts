import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/types.js';
import { isDenied } from '../../src/engine/evaluate.js';
import { judge } from '../fixtures/judge.js';
import { releaseFromValues } from '../../src/engine/subjects.js';
import { policyMatches, ruleMatches, type MatchTarget } from '../../src/engine/match.js';
import type { MatchRule, Policy } from '../../src/engine/types.js';

function insecureRelease(namespace = 'gloo-mesh') {
  return releaseFromValues({
    chart: 'gloo-mesh-agent',
    namespace,
    releaseName: 'agent',
    values: [{ insecure: true }],
    source: { location: 'values.yaml' },
  })!;
}

const NOW = new Date('2026-11-28T12:00:00Z');

/** A policy written for a test: only its id, what it does and what else it needs differ. */
function testPolicy(id: string, validate: Policy['validate'], more: Partial<Policy> = {}): Policy {
  return {
    id,
    title: 't',
    severity: 'low',
    defaultAction: 'deny',
    description: 'd',
    remediation: 'r',
    appliesTo: ['release'],
    validate,
    ...more,
  };
}

describe('evaluate', () => {
  it('when a policy finds a violation, then the finding carries id, action, severity, path, source and object', () => {
    const r = judge(insecureRelease(), defaultConfig(), { now: NOW });
    expect(r.findings).toEqual([
      {
        policy: 'no-insecure-relay',
        action: 'deny',
        severity: 'critical',
        message:
          '[no-insecure-relay] relay runs without mTLS because insecure is true (insecure) -> set insecure: false',
        path: 'insecure',
        fix: 'set insecure: false',
        source: 'values.yaml',
        object: 'release gloo-mesh/agent (chart gloo-mesh-agent)',
      },
    ]);
    expect(isDenied(r, defaultConfig())).toBe(true);
  });

  it('when the config sets a policy to warn or off, then that is its action', () => {
    const cfg = defaultConfig();
    cfg.policies['no-insecure-relay'] = { action: 'warn' };
    expect(judge(insecureRelease(), cfg).findings.map((f) => f.action)).toEqual(['warn']);
    cfg.policies['no-insecure-relay'] = { action: 'off' };
    expect(judge(insecureRelease(), cfg).findings).toEqual([]);
  });

  it('when the mode is audit, then denials become warnings and nothing is refused', () => {
    const cfg = { ...defaultConfig(), mode: 'audit' as const };
    const r = judge(insecureRelease(), cfg);
    expect(r.findings.map((f) => f.action)).toEqual(['warn']);
    expect(isDenied(r, cfg)).toBe(false);
  });

  it('when an exception matches policy, namespace and name, then the violation is exempted with its reason', () => {
    const cfg = defaultConfig();
    cfg.exceptions = [
      {
        policy: 'no-insecure-relay',
        namespace: 'gloo-mesh',
        name: 'agent',
        reason: 'lab',
        expires: '2026-11-28',
      },
    ];
    const r = judge(insecureRelease(), cfg, { now: NOW });
    expect(r.findings).toEqual([]);
    expect(r.exempted).toEqual([
      { policy: 'no-insecure-relay', path: 'insecure', object: r.object, reason: 'lab' },
    ]);
  });

  it('when an exception names another namespace or release, then it does not apply', () => {
    const cfg = defaultConfig();
    cfg.exceptions = [
      { policy: 'no-insecure-relay', namespace: 'other', reason: 'x' },
      { policy: 'no-insecure-relay', name: 'other', reason: 'x' },
    ];
    expect(judge(insecureRelease(), cfg).findings.length).toBe(1);
  });

  it('when an exception has expired, then the violation stands and a note says so', () => {
    const cfg = defaultConfig();
    cfg.exceptions = [{ policy: 'no-insecure-relay', reason: 'lab', expires: '2026-11-27' }];
    const r = judge(insecureRelease(), cfg, { now: NOW });
    expect(r.findings.length).toBe(1);
    expect(r.notes).toEqual([
      `[no-insecure-relay] exception for ${r.object} expired on 2026-11-27 and no longer applies`,
    ]);
  });

  it('when a policy throws, then it is an error, not a violation and not a pass', () => {
    const broken = testPolicy('broken', () => {
      throw new TypeError('cannot read glooMgmtServer.relay.secretValue=hunter2');
    });
    const seen: Array<[string, unknown]> = [];
    const r = judge(insecureRelease(), defaultConfig(), {
      policies: [broken],
      onPolicyError: (policy, _object, err) => seen.push([policy, err]),
    });
    expect(r.findings).toEqual([]);
    expect(r.errors).toEqual([
      {
        policy: 'broken',
        object: r.object,
        message: 'policy broken failed to run (TypeError); the gloo-guard logs have the details',
      },
    ]);
    expect(JSON.stringify(r)).not.toContain('hunter2');
    expect(seen.map(([p, e]) => [p, (e as Error).message])).toEqual([
      ['broken', 'cannot read glooMgmtServer.relay.secretValue=hunter2'],
    ]);
    expect(isDenied(r, defaultConfig())).toBe(true);
    expect(isDenied(r, { ...defaultConfig(), onError: 'allow' })).toBe(false);
  });
});

describe('policy options', () => {
  const optioned = (validate: Policy['validate']): Policy =>
    testPolicy('optioned', validate, { options: { level: { description: 'how strict', default: 'high' } } });

  it('when a policy tries to change its options, then it fails to run, and the next review still gets the defaults', () => {
    const seenLevels: unknown[] = [];
    const meddler = optioned((_s, ctx) => {
      seenLevels.push(ctx.options.level);
      ctx.options.level = 'low';
      return [];
    });
    const first = judge(insecureRelease(), defaultConfig(), { policies: [meddler] });
    expect(first.errors.map((e) => e.message)).toEqual([
      'policy optioned failed to run (TypeError); the gloo-guard logs have the details',
    ]);
    judge(insecureRelease(), defaultConfig(), { policies: [meddler] });
    expect(seenLevels).toEqual(['high', 'high']);
  });

  it('when the config sets an option, then the policy reads it over the default, and other reviews are not changed', () => {
    const seen: unknown[] = [];
    const reader = optioned((_s, ctx) => (seen.push(ctx.options.level), []));
    const cfg = defaultConfig();
    cfg.policies.optioned = { options: { level: 'medium' } };
    judge(insecureRelease(), cfg, { policies: [reader] });
    judge(insecureRelease(), defaultConfig(), { policies: [reader] });
    expect(seen).toEqual(['medium', 'high']);
  });
});

describe('match rules', () => {
  const ns = defaultConfig().namespaces;
  const target = (namespace: string, name: string, labels: Record<string, string> = {}): MatchTarget => ({
    namespace,
    name,
    labels,
  });

  it('when a rule names namespaces, names and labels, then an object matches only when all three hold', () => {
    const rule: MatchRule = {
      namespaces: ['management', 'addons'],
      names: ['gloo-mesh-*', 'agent'],
      labels: { app: 'x', tier: 'y' },
    };
    const labels = { app: 'x', tier: 'y', other: 'z' };
    expect(ruleMatches(rule, target('gloo-mesh', 'gloo-mesh-mgmt-server', labels), ns)).toBe(true);
    expect(ruleMatches(rule, target('gloo-mesh-addons', 'agent', labels), ns)).toBe(true);
    expect(ruleMatches(rule, target('default', 'agent', labels), ns)).toBe(false);
    expect(ruleMatches(rule, target('gloo-mesh', 'agent-2', labels), ns)).toBe(false);
    expect(ruleMatches(rule, target('gloo-mesh', 'agent', { app: 'x' }), ns)).toBe(false);
    expect(ruleMatches(rule, target('gloo-mesh', 'agent', { app: 'x', tier: 'z' }), ns)).toBe(false);
    expect(ruleMatches({}, target('anywhere', 'anything'), ns)).toBe(true);
  });

  it('when a rule inherits a label it does not own, then that label is not asked for', () => {
    const labels = Object.create({ inherited: 'yes' }) as Record<string, string>;
    labels.app = 'x';
    expect(ruleMatches({ labels }, target('gloo-mesh', 'a', { app: 'x' }), ns)).toBe(true);
  });

  it('when a policy has several rules for a kind, then any one of them is enough; a kind it lists none for is judged whole', () => {
    const policy = {
      appliesTo: ['deployment', 'namespace'],
      match: { deployment: [{ names: ['a'] }, { namespaces: ['addons'] }] },
    } as unknown as Policy;
    expect(policyMatches(policy, 'deployment', target('gloo-mesh', 'a'), ns)).toBe(true);
    expect(policyMatches(policy, 'deployment', target('gloo-mesh-addons', 'b'), ns)).toBe(true);
    expect(policyMatches(policy, 'deployment', target('gloo-mesh', 'b'), ns)).toBe(false);
    expect(policyMatches(policy, 'namespace', target('x', 'x'), ns)).toBe(true);
    expect(policyMatches(policy, 'service', target('x', 'x'), ns)).toBe(false);
  });
});
