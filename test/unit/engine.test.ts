import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/types.js';
import { isDenied } from '../../src/engine/evaluate.js';
import { judge } from '../fixtures/judge.js';
import { releaseFromValues } from '../../src/engine/subjects.js';
import type { Policy } from '../../src/engine/types.js';

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
    const broken: Policy = {
      id: 'broken',
      title: 't',
      severity: 'low',
      defaultAction: 'deny',
      description: 'd',
      remediation: 'r',
      appliesTo: ['release'],
      validate: () => {
        throw new TypeError('cannot read glooMgmtServer.relay.secretValue=hunter2');
      },
    };
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
