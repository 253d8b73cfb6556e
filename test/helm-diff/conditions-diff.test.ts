/**
 * Issue 15 point 2: which subcharts Helm deploys, against gloo-guard's reading. Charts with
 * dependencies (`prometheus`, `rateLimiter`, `extAuthService`: the gloo-platform subcharts the
 * policies judge) get `condition` and `tags` switches of adversarial types (false, "false", 0, null,
 * no, "no", maps, lists, absent), set in the subchart's own values, the parent's and the user's.
 * Helm 3.17.3 and 4.3.2 load the chart and run `ProcessDependencies(WithMerge)` as `helm install`
 * does (test/helm-diff); gloo-guard reads what a release of that install stores (the chart's
 * processed values and dependencies, and the user's values) the way the webhook does, and must
 * name the same subcharts: through the umbrella reading (`parentValues`, `dependencyEnabled`) and
 * through the model the policies read (`releaseFromHelm`: `prometheus.enabled`, the add-ons).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseYamlText } from '../../src/cli/inputs.js';
import { parentValues } from '../../src/engine/carriers/umbrella.js';
import { dependencyEnabled } from '../../src/engine/helm-values.js';
import { releaseFromHelm } from '../../src/engine/subjects.js';
import type { Flag } from '../../src/engine/types.js';
import { isObject, mergeValues } from '../../src/engine/values.js';
import type { HelmRelease } from '../../src/helm/release.js';
import type { GoDependency } from '../../src/helm/release-json.js';
import { MAJORS, renderValues, type HelmResult, type HelmValuesView, type ValuesCase } from './helm.js';

/** The subcharts, by the key their values sit under; each is a gloo-platform condition `K.enabled`. */
const SUBCHARTS = ['prometheus', 'rateLimiter', 'extAuthService'] as const;
type Sub = (typeof SUBCHARTS)[number];

/** Switch values as YAML text: booleans, and what only looks like one to a reader. */
const SWITCHES = [
  'false',
  'true',
  '"false"',
  '"true"',
  '0',
  '1',
  'null',
  '~',
  'no',
  '"no"',
  'off',
  '{}',
  '[false]',
];

interface DepCase {
  key: Sub;
  /** Chart.yaml `condition`, or none. */
  condition?: string;
  tags: string[];
  /** `enabled:` in the subchart's own values.yaml, or none. */
  own?: string;
  /** `K.enabled` in the parent's values.yaml (`table`: `K: {}` only), or none. */
  parent?: string;
}

interface ChartCase {
  deps: DepCase[];
  /** `tags:` in the parent's values.yaml, as `x: V` lines. */
  parentTags: Array<[string, string]>;
  /** The user's values file. */
  user: string;
}

const opt = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(a, { nil: undefined });

function conditionFor(key: Sub): fc.Arbitrary<string | undefined> {
  return opt(
    fc.constantFrom(
      `${key}.enabled`,
      `${key}.enabled`,
      `missing.path,${key}.enabled`,
      `${key}.enabled,tags.never`,
      `other.enabled, ${key}.enabled`,
      ` ${key}.enabled `,
      `${key}.deep.enabled`,
      `${key}`,
    ),
  );
}

const depCase = (key: Sub): fc.Arbitrary<DepCase> =>
  fc.record({
    key: fc.constant(key),
    condition: conditionFor(key),
    tags: fc.subarray(['x', 'y']),
    own: opt(fc.constantFrom(...SWITCHES)),
    parent: opt(fc.constantFrom(...SWITCHES, 'table')),
  });

/** One user file line for a subchart: its switch, the whole table, or nothing. */
function userLines(key: Sub): fc.Arbitrary<string[]> {
  return fc.oneof(
    fc.constant<string[]>([]),
    fc.constantFrom(...SWITCHES).map((v) => [`${key}:`, `  enabled: ${v}`]),
    fc.constantFrom(...SWITCHES).map((v) => [`${key}:`, `  deep: {enabled: ${v}}`]),
    fc.constant<string[]>([`${key}: null`]),
    fc.constant<string[]>([`${key}: {}`]),
  );
}

const userFile: fc.Arbitrary<string> = fc
  .record({
    subs: fc.tuple(...SUBCHARTS.map(userLines)),
    tags: fc.oneof(
      fc.constant<string[]>([]),
      fc.constant(['tags: null']),
      fc
        .array(fc.tuple(fc.constantFrom('x', 'y'), fc.constantFrom(...SWITCHES)), {
          minLength: 1,
          maxLength: 2,
        })
        .map((l) => ['tags:', ...l.map(([k, v]) => `  ${k}: ${v}`)]),
    ),
    other: fc.constantFrom([], ['other: {enabled: false}'], ['missing: {path: false}']),
  })
  .map(({ subs, tags, other }) => [...subs.flat(), ...tags, ...other].join('\n') + '\n');

const chartCase: fc.Arbitrary<ChartCase> = fc.record({
  deps: fc.subarray([...SUBCHARTS], { minLength: 1 }).chain((keys) => fc.tuple(...keys.map(depCase))),
  parentTags: fc.array(fc.tuple(fc.constantFrom('x', 'y'), fc.constantFrom(...SWITCHES)), { maxLength: 2 }),
  user: userFile,
});

/** The chart as files, as `helm install DIR` loads it. */
function chartFiles(c: ChartCase): Record<string, string> {
  const deps = c.deps.map((d) =>
    [
      `- name: ${d.key}`,
      '  version: 0.1.0',
      ...(d.condition === undefined ? [] : [`  condition: "${d.condition}"`]),
      ...(d.tags.length === 0 ? [] : [`  tags: [${d.tags.join(', ')}]`]),
    ].join('\n'),
  );
  const parent = c.deps.flatMap((d) =>
    d.parent === undefined
      ? []
      : d.parent === 'table'
        ? [`${d.key}: {}`]
        : [`${d.key}:`, `  enabled: ${d.parent}`],
  );
  const tags = c.parentTags.length === 0 ? [] : ['tags:', ...c.parentTags.map(([k, v]) => `  ${k}: ${v}`)];
  const files: Record<string, string> = {
    'Chart.yaml': `apiVersion: v2\nname: umbrella\nversion: 0.1.0\ndependencies:\n${deps.join('\n')}\n`,
    'values.yaml': [...parent, ...tags, 'kept: 1'].join('\n') + '\n',
  };
  for (const d of c.deps) {
    files[`charts/${d.key}/Chart.yaml`] = `apiVersion: v2\nname: ${d.key}\nversion: 0.1.0\n`;
    files[`charts/${d.key}/values.yaml`] =
      d.own === undefined ? 'image: x\n' : `image: x\nenabled: ${d.own}\n`;
  }
  return files;
}

/** The user's file as gloo-guard reads a values file (go-yaml v2 rules). */
function userValues(text: string): Record<string, unknown> {
  const v = parseYamlText(text, 'values.yaml', true)[0]?.value;
  return mergeValues({}, isObject(v) ? v : {});
}

/** A release of the install Helm computed, as the webhook decodes it from the release Secret. */
function storedRelease(view: HelmValuesView, config: Record<string, unknown>, name: string): HelmRelease {
  const dependencies = (view.dependencies ?? []).filter((d): d is GoDependency => d !== null);
  return {
    name: 'rel',
    namespace: 'ns',
    version: 1,
    info: { status: 'deployed' },
    chart: { metadata: { name, version: '2.5.0', dependencies }, values: view.chartValues ?? {} },
    config,
  };
}

/** gloo-guard's subcharts of an umbrella release: each stored dependency its values leave enabled. */
function oursEnabled(rel: HelmRelease): string[] {
  const values = parentValues(rel);
  return (rel.chart.metadata.dependencies ?? [])
    .filter((d) => dependencyEnabled({ condition: d.condition, tags: d.tags ?? [] }, values).enabled)
    .map((d) => (d.alias === '' ? d.name : d.alias))
    .sort();
}

/** The model's switch for a subchart: what `no-bundled-prometheus` and the add-ons policies read. */
function modelSwitch(rel: HelmRelease, key: Sub): Flag | undefined {
  const model = releaseFromHelm(rel, { location: 'release' })?.model;
  if (key === 'prometheus') return model?.prometheus?.enabled;
  return model?.addons[key === 'rateLimiter' ? 0 : 1];
}

function context(c: ChartCase, files: Record<string, string>, helm: HelmResult<HelmValuesView>): string {
  const chart = Object.entries(files)
    .map(([n, t]) => `# ${n}\n${t}`)
    .join('');
  return `${chart}# user values\n${c.user}Helm: ${JSON.stringify(helm.ok?.enabled ?? helm.error)}`;
}

describe('property: subchart conditions and tags, as Helm processes dependencies', () => {
  it('when conditions and tags hold adversarial types in the subchart’s, the parent’s and the user’s values, then gloo-guard names the subcharts Helm 3 and 4 deploy', () => {
    const cases = fc.sample(chartCase, { seed: 20261130, numRuns: 300 });
    const asked: ValuesCase[] = cases.map((c) => ({ files: chartFiles(c), valueFiles: [c.user] }));
    const [v3, v4] = MAJORS.map((m) => renderValues(m, asked));
    let disabled = 0;
    let modelChecked = 0;
    let refused = 0;
    let majorsDiffer = 0;
    cases.forEach((c, i) => {
      const [h3, h4] = [v3?.[i] ?? {}, v4?.[i] ?? {}];
      const why = context(c, asked[i]?.files ?? {}, h3);
      // `K: null` where the parent's values have no K: Helm refuses the install ("type mismatch on
      // K"), so no release exists to read.
      expect(h4.error === undefined, why).toBe(h3.error === undefined);
      if (h3.error !== undefined) {
        expect(h3.error, why).toMatch(/^type mismatch on /);
        refused++;
        return;
      }
      if (JSON.stringify(h3.ok?.enabled) !== JSON.stringify(h4.ok?.enabled)) majorsDiffer++;
      const user = userValues(c.user);
      for (const [major, h] of [
        ['Helm 3', h3],
        ['Helm 4', h4],
      ] as const) {
        const helm = h.ok as HelmValuesView;
        const said = `${why}\n${major}: ${JSON.stringify(helm.enabled)}`;
        // The umbrella reading, on what the release stores.
        expect(oursEnabled(storedRelease(helm, user, 'umbrella')), said).toEqual(helm.enabled);
        // The policies' reading, when the stored chart is gloo-platform with these subcharts.
        const platform = storedRelease(helm, user, 'gloo-platform');
        for (const d of c.deps) {
          const on = helm.enabled.includes(d.key);
          if (!on) disabled++;
          if (d.condition !== `${d.key}.enabled` || d.tags.length > 0) continue;
          modelChecked++;
          expect(modelSwitch(platform, d.key)?.value, `${said}\nmodel switch ${d.key}.enabled`).toBe(on);
        }
      }
    });
    // Helm 4 drops the parent chart's own nulls before coalescing, Helm 3 lets them delete the
    // subchart's defaults: a parent `K.enabled: null` over a subchart's `enabled: false` is deployed
    // by Helm 3 only. Each release is read against what its own Helm stored.
    expect(majorsDiffer).toBeGreaterThan(0);
    // The generator reaches both sides, and the model reading on many cases.
    expect(disabled).toBeGreaterThan(40);
    expect(refused).toBeLessThan(150);
    expect(modelChecked).toBeGreaterThan(60);
  });
});
