import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { defaultConfig } from '../../src/config/types.js';
import { POLICIES } from '../../src/policies/index.js';
import { chartNodeArgs } from '../../scripts/node-options.js';
import { CHART_DIR, FULLNAME, MAJORS, one, render, renderError, type RenderOptions } from './helm.js';

const CI_FILES = readdirSync(join(CHART_DIR, 'ci')).filter((f) => f.endsWith('-values.yaml'));

function configOf(major: (typeof MAJORS)[number], opts: RenderOptions): ReturnType<typeof parseConfig> {
  const cm = one(render(major, opts), 'ConfigMap', FULLNAME);
  return parseConfig(cm.data['config.yaml'] as string, `ConfigMap ${FULLNAME}`);
}

describe.each(MAJORS)('values (helm %s)', (major) => {
  describe('the schema refuses mistakes, naming them', () => {
    const cases: Array<[string, RenderOptions, RegExp]> = [
      ['a misspelt top-level key', { set: ['modee=audit'] }, /modee/],
      ['a misspelt nested key', { set: ['certificates.mdoe=provided'] }, /mdoe/],
      ['a misspelt webhook', { set: ['webhooks.release.enabled=false'] }, /release\b/],
      ['an unknown mode', { set: ['mode=dry-run'] }, /mode/],
      ['an unknown policy action', { set: ['policies.no-bundled-redis.action=dney'] }, /action/],
      ['an unknown policy option', { set: ['policies.fips-images.options.sufix=-f'] }, /sufix/],
      [
        'an exception without a reason',
        { setJson: ['exceptions=[{"policy":"no-bundled-redis"}]'] },
        /reason/,
      ],
      ['a timeout above 30 s', { set: ['timeoutSeconds=31'] }, /timeoutSeconds/],
      ['a failurePolicy typo', { set: ['failurePolicy=fail'] }, /failurePolicy/],
      ['zero replicas', { set: ['replicas=0'] }, /replicas/],
      ['an unknown log level', { set: ['logLevel=verbose'] }, /logLevel/],
      ['warmUp as a word', { set: ['warmUp=sometimes'] }, /warmUp/],
      ['nodeOptions as a list', { setJson: ['nodeOptions=["--max-semi-space-size=8"]'] }, /nodeOptions/],
    ];
    it.each(cases)('when given %s, then helm template fails', (_what, opts, pattern) => {
      const err = renderError(major, opts);
      expect(err).toMatch(/values don't meet the specifications of the schema/);
      expect(err).toMatch(pattern);
    });
  });

  describe('ids that name no built-in policy and no rule are refused, naming them', () => {
    const cases: Array<[string, RenderOptions, RegExp]> = [
      [
        'an unknown policy id',
        { setJson: ['policies={"no-bundled-rediss":{"action":"deny"}}'] },
        /policies\.no-bundled-rediss: no built-in policy or rule has this id/,
      ],
      [
        'an exception for an unknown policy',
        { setJson: ['exceptions=[{"policy":"nope","reason":"r"}]'] },
        /exceptions\[0\]\.policy: nope is neither a built-in policy nor a rule id/,
      ],
    ];
    it.each(cases)('when given %s, then helm template fails', (_what, opts, pattern) => {
      expect(renderError(major, opts)).toMatch(pattern);
    });

    it('when a rule is given, then policies and exceptions may name it', () => {
      const cfg = configOf(major, {
        values: ['../../examples/rules/config.yaml'],
        setJson: [
          'policies={"gloo-mesh-container-limits":{"action":"warn"}}',
          'exceptions=[{"policy":"gloo-mesh-container-limits","name":"legacy","reason":"r"}]',
        ],
      });
      expect(cfg.rules.map((r) => r.id)).toContain('gloo-mesh-container-limits');
      expect(cfg.policies['gloo-mesh-container-limits']).toEqual({ action: 'warn' });
      expect(cfg.exceptions[0]?.policy).toBe('gloo-mesh-container-limits');
    });
  });

  it.each(CI_FILES)('when %s is rendered, then the server accepts its ConfigMap (parseConfig)', (file) => {
    expect(() => configOf(major, { values: [`ci/${file}`] })).not.toThrow();
  });

  it('when logLevel is set, then the server gets it as --log-level', () => {
    const deployment = one(render(major, { set: ['logLevel=debug'] }), 'Deployment', FULLNAME);
    const args = (deployment.spec.template.spec.containers[0].args as string[]).join(' ');
    expect(args).toContain('--log-level debug');
  });

  it('when warmUp is false, then the server gets --no-warm-up; by default it warms up (no flag)', () => {
    const argsOf = (set: string[]): string[] =>
      one(render(major, { set }), 'Deployment', FULLNAME).spec.template.spec.containers[0].args as string[];
    expect(argsOf(['warmUp=false'])).toContain('--no-warm-up');
    expect(argsOf([])).not.toContain('--no-warm-up');
  });

  it('when nodeOptions is given, then the server gets it as NODE_OPTIONS; by default the young generation is capped; empty sets none', () => {
    const envOf = (set: string[]): unknown =>
      one(render(major, { set }), 'Deployment', FULLNAME).spec.template.spec.containers[0].env;
    expect(envOf([])).toEqual([{ name: 'NODE_OPTIONS', value: '--max-semi-space-size=8' }]);
    expect(chartNodeArgs()).toEqual(['--max-semi-space-size=8']);
    expect(envOf(['nodeOptions=--max-semi-space-size=16 --max-old-space-size=400'])).toEqual([
      { name: 'NODE_OPTIONS', value: '--max-semi-space-size=16 --max-old-space-size=400' },
    ]);
    expect(envOf(['nodeOptions='])).toBeUndefined();
  });

  it('when rendered with defaults, then the config is the server default', () => {
    expect(configOf(major, {})).toEqual(defaultConfig());
  });

  it('when audit values are given, then the config carries them exactly', () => {
    const cfg = configOf(major, { values: ['ci/audit-values.yaml'] });
    expect(cfg.mode).toBe('audit');
    expect(cfg.policies).toEqual({
      'fips-images': { action: 'warn', options: { suffix: '-fips' } },
      'ui-oidc-auth': { action: 'off' },
      'mgmt-server-internal-lb': { action: 'deny' },
    });
    expect(cfg.exceptions).toEqual([
      {
        policy: 'no-bundled-redis',
        namespace: 'gloo-mesh',
        name: 'gloo-platform',
        reason: 'external Redis is being provisioned (PLAT-1234)',
        expires: '2030-12-31',
      },
    ]);
  });

  it('when every policy of the catalog is configured, then the schema and the server both accept it', () => {
    const policies = Object.fromEntries(POLICIES.map((p) => [p.id, { action: 'warn' }]));
    const cfg = configOf(major, {
      setJson: [`policies=${JSON.stringify(policies)}`],
      set: ['onError=allow', 'namespaces.management=gm', 'limits.maxReleaseBytes=1048576'],
    });
    expect(Object.keys(cfg.policies)).toEqual(POLICIES.map((p) => p.id).sort());
    expect(cfg.onError).toBe('allow');
    expect(cfg.namespaces.management).toBe('gm');
    expect(cfg.limits.maxReleaseBytes).toBe(1048576);
  });
});
