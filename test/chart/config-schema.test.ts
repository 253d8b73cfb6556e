// The config file has one JSON Schema (src/config/schema.ts). The server's loader validates with it,
// and the chart's values.schema.json carries it for the values the chart writes into the config file,
// so real helm refuses, at `helm template`, a value that the server would refuse at start.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { validationOnly } from '../../scripts/gen-chart-readme.js';
import { ConfigError, parseConfig } from '../../src/config/load.js';
import { configSchema } from '../../src/config/schema.js';
import { CHART_DIR, FULLNAME, MAJORS, helm, one, render } from './helm.js';

const chartSchema = JSON.parse(readFileSync(join(CHART_DIR, 'values.schema.json'), 'utf8'));
const CONFIG_KEYS = Object.keys(configSchema().properties ?? {});

function loaderError(values: Record<string, unknown>): string {
  try {
    parseConfig(stringify(values), 'cfg.yaml');
  } catch (err: unknown) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  throw new Error('the config loader accepted it');
}

function helmError(major: (typeof MAJORS)[number], values: Record<string, unknown>): string {
  const args = Object.entries(values).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  const r = helm(major, ['template', 'gg', '.', ...args.flatMap((a) => ['--set-json', a])]);
  if (r.code === 0) throw new Error(`helm ${major} template accepted ${args.join(' ')}`);
  return r.stderr;
}

const RULE = {
  id: 'r1',
  title: 't',
  severity: 'high',
  appliesTo: ['release'],
  expression: 'true',
  remediation: 'x',
};

/** A bad value; how helm 3 (gojsonschema), helm 4 (santhosh-tekuri/jsonschema) and the loader say so. */
interface Case {
  what: string;
  values: Record<string, unknown>;
  v3: RegExp;
  v4: RegExp;
  loader: RegExp;
}

const exception = (expires: string): Record<string, unknown> => ({
  exceptions: [{ policy: 'no-bundled-redis', reason: 'r', expires }],
});

const CASES: Case[] = [
  {
    what: 'an expiry on a day that does not exist (2030-02-30)',
    values: exception('2030-02-30'),
    v3: /exceptions\.0\.expires: Does not match format 'date'/,
    v4: /at '\/exceptions\/0\/expires': '2030-02-30' is not valid date/,
    loader: /^cfg\.yaml:4: exceptions\[0\]\.expires: "2030-02-30" is not a date; write a real day/,
  },
  {
    what: 'an expiry in month 13',
    values: exception('2030-13-01'),
    v3: /exceptions\.0\.expires: Does not match format 'date'/,
    v4: /at '\/exceptions\/0\/expires': '2030-13-01' is not valid date/,
    loader: /^cfg\.yaml:4: exceptions\[0\]\.expires: "2030-13-01" is not a date/,
  },
  {
    what: 'a rule for a kind gloo-guard does not judge',
    values: { rules: [{ ...RULE, appliesTo: ['pod'] }] },
    v3: /rules\.0\.appliesTo\.0: rules\.0\.appliesTo\.0 must be one of the following: "release"/,
    v4: /at '\/rules\/0\/appliesTo\/0': value must be one of 'release'/,
    loader:
      /^cfg\.yaml:6: rules\[0\] \(r1\)\.appliesTo\[0\] must be one of release, namespace, deployment, service, not "pod"$/,
  },
  {
    what: 'a misspelt rule key',
    values: { rules: [{ ...RULE, remedy: 'x' }] },
    v3: /rules\.0: Additional property remedy is not allowed/,
    v4: /additional properties 'remedy' not allowed/,
    loader: /^cfg\.yaml:9: unknown key "rules\[0\] \(r1\)\.remedy" \(known: id, title, severity, action/,
  },
  {
    what: 'a version range that is not comparators',
    values: { rules: [{ ...RULE, match: { versions: 'newer than 2.4' } }] },
    v3: /rules\.0\.match\.versions: Does not match pattern/,
    v4: /at '\/rules\/0\/match\/versions': 'newer than 2\.4' does not match pattern/,
    loader:
      /^cfg\.yaml:10: rules\[0\] \(r1\)\.match\.versions must be comparators such as ">=2\.4\.0 <2\.7\.0", not "newer than 2\.4"$/,
  },
  {
    what: 'a release limit of zero',
    values: { limits: { maxReleaseBytes: 0 } },
    v3: /limits\.maxReleaseBytes: Must be greater than or equal to 1/,
    v4: /at '\/limits\/maxReleaseBytes': minimum: got 0, want 1/,
    loader: /^cfg\.yaml:2: limits\.maxReleaseBytes must be a positive whole number$/,
  },
  {
    what: 'a policy option of the wrong type',
    values: { policies: { 'fips-images': { options: { suffix: 3 } } } },
    v3: /policies\.fips-images\.options\.suffix: Invalid type\. Expected: string, given: integer/,
    v4: /at '\/policies\/fips-images\/options\/suffix': got number, want string/,
    loader: /^cfg\.yaml:4: policies\.fips-images\.options\.suffix must be a string$/,
  },
  {
    what: 'a namespace name Kubernetes would refuse',
    values: { namespaces: { management: 'Gloo_Mesh' } },
    v3: /namespaces\.management: Does not match pattern/,
    v4: /at '\/namespaces\/management': 'Gloo_Mesh' does not match pattern/,
    loader: /^cfg\.yaml:2: namespaces\.management must be a namespace name .*, not "Gloo_Mesh"$/,
  },
];

describe('one schema for the config file and the chart', () => {
  it('when values.schema.json is read, then each config key has the config schema (npm run docs:chart)', () => {
    for (const key of CONFIG_KEYS) {
      const want = validationOnly(configSchema().properties![key]!);
      const have = structuredClone(chartSchema.properties[key]);
      // The template always writes both namespaces; the chart alone requires them.
      if (key === 'namespaces') expect(have.required).toEqual(['management', 'addons']);
      if (key === 'namespaces') delete have.required;
      expect(have, key).toEqual(want);
    }
  });

  it('when the ConfigMap template is read, then it writes every config key from the value of that name', () => {
    const template = readFileSync(join(CHART_DIR, 'templates', 'configmap.yaml'), 'utf8');
    for (const key of CONFIG_KEYS) expect(template, key).toContain(`.Values.${key}`);
  });
});

describe.each(MAJORS)('helm %s and the server refuse the same bad config value', (major) => {
  it.each(CASES)('when given $what, then both name the key', ({ values, v3, v4, loader }) => {
    const err = helmError(major, values);
    expect(err).toMatch(/values don't meet the specifications of the schema/);
    expect(err).toMatch(major === 'v3' ? v3 : v4);
    expect(loaderError(values).split('\n')).toEqual([expect.stringMatching(loader)]);
  });

  it('when an exception ends on a leap day, then helm renders it and the server reads it', () => {
    const ex = { policy: 'no-bundled-redis', reason: 'r', expires: '2028-02-29' };
    const cm = one(render(major, { setJson: [`exceptions=${JSON.stringify([ex])}`] }), 'ConfigMap', FULLNAME);
    expect(parseConfig(cm.data['config.yaml'] as string, 'cm').exceptions).toEqual([ex]);
  });
});
