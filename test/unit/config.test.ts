import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config/load.js';
import { defaultConfig } from '../../src/config/types.js';

function errorOf(text: string): string {
  try {
    parseConfig(text, 'cfg.yaml');
  } catch (err: unknown) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('config', () => {
  it('when the file is empty, then the defaults apply', () => {
    expect(parseConfig('', 'cfg.yaml')).toEqual(defaultConfig());
  });

  it('when the issue example is given, then it is read exactly', () => {
    const cfg = parseConfig(
      [
        'mode: audit',
        'onError: allow',
        'namespaces:',
        '  management: gm',
        '  addons: gm-addons',
        'policies:',
        '  fips-images:',
        '    action: deny',
        '    options:',
        '      suffix: -fips',
        '  ui-oidc-auth:',
        '    action: off',
        'exceptions:',
        '  - policy: no-bundled-prometheus',
        '    namespace: gloo-mesh',
        '    name: gloo-mesh-enterprise',
        '    reason: staging cluster until the shared Prometheus is ready',
        '    expires: 2027-03-31',
        'limits:',
        '  maxReleaseBytes: 1048576',
      ].join('\n'),
    );
    expect(cfg).toEqual({
      mode: 'audit',
      onError: 'allow',
      namespaces: { management: 'gm', addons: 'gm-addons' },
      policies: {
        'fips-images': { action: 'deny', options: { suffix: '-fips' } },
        'ui-oidc-auth': { action: 'off' },
      },
      exceptions: [
        {
          policy: 'no-bundled-prometheus',
          namespace: 'gloo-mesh',
          name: 'gloo-mesh-enterprise',
          reason: 'staging cluster until the shared Prometheus is ready',
          expires: '2027-03-31',
        },
      ],
      rules: [],
      limits: { maxReleaseBytes: 1048576 },
    });
  });

  it.each([
    ['mode: enforcing\n', 'cfg.yaml:1: mode must be one of enforce, audit, not "enforcing"'],
    [
      'modes: audit\n',
      'cfg.yaml:1: unknown key "modes" (known: mode, onError, namespaces, policies, exceptions, rules, limits)',
    ],
    [
      'policies:\n  no-insecure-relay:\n    acton: warn\n',
      'cfg.yaml:3: unknown key "policies.no-insecure-relay.acton" (known: action, options)',
    ],
    [
      'policies:\n  no-insecure-relay:\n    action: block\n',
      'cfg.yaml:3: policies.no-insecure-relay.action must be one of deny, warn, off, not "block"',
    ],
    [
      'policies:\n  fips-images:\n    options:\n      sufix: x\n',
      'cfg.yaml:4: unknown key "policies.fips-images.options.sufix" (known: suffix)',
    ],
    [
      'policies:\n  fips-images:\n    options:\n      suffix: 3\n',
      'cfg.yaml:4: policies.fips-images.options.suffix must be a string',
    ],
    [
      'exceptions:\n  - policy: no-bundled-redis\n',
      'cfg.yaml:2: exceptions[0].reason is required: say why the exception exists',
    ],
    [
      'exceptions:\n  - policy: nope\n    reason: x\n',
      'cfg.yaml:2: exceptions[0].policy: unknown policy id "nope"',
    ],
    [
      'exceptions:\n  - policy: no-bundled-redis\n    reason: x\n    expires: soon\n',
      'cfg.yaml:4: exceptions[0].expires: "soon" is not a date; write a real day as YYYY-MM-DD, e.g. 2027-03-31',
    ],
    [
      'limits:\n  maxReleaseBytes: -1\n',
      'cfg.yaml:2: limits.maxReleaseBytes must be a positive whole number',
    ],
    ['mode: [\n', 'cfg.yaml:2: not valid YAML'],
    ['- a\n- b\n', 'cfg.yaml:1: the config must be a mapping'],
  ])('when the config says %j, then the error is %j', (text, message) => {
    expect(errorOf(text)).toContain(message);
  });

  it('when several things are wrong, then every one is listed with its line', () => {
    expect(errorOf('mode: x\nonError: maybe\n').split('\n')).toEqual([
      'cfg.yaml:1: mode must be one of enforce, audit, not "x"',
      'cfg.yaml:2: onError must be one of deny, allow, not "maybe"',
    ]);
  });
});
