/**
 * Issue 15 point 2: values files against Helm's own reading. The same chart defaults and user values
 * files go through `helm install`'s value steps (test/helm-diff, Helm 3.17.3 and 4.3.2) and through
 * gloo-guard's (values read as go-yaml v2 reads them, files merged in order, coalesced onto the
 * chart's defaults); the values every policy reads from must be the same, or gloo-guard must refuse
 * the file where Helm refuses it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseYamlText } from '../../src/cli/inputs.js';
import { coalesce, isObject, mergeValues, type HelmMajor } from '../../src/engine/values.js';
import { MAJORS, renderValues, type HelmResult, type HelmValuesView } from './helm.js';

const CHART_YAML = 'apiVersion: v2\nname: c\nversion: 0.1.0\n';

/** gloo-guard's values for a chart's values.yaml and the user's files, or its refusal. */
function ours(
  chartValues: string,
  files: string[],
  major: HelmMajor,
): { ok?: Record<string, unknown>; error?: string } {
  try {
    const read = (text: string, name: string): Record<string, unknown> => {
      const docs = parseYamlText(text, name, true).filter((d) => d.value !== null && d.value !== undefined);
      const v = docs[0]?.value ?? {};
      if (docs.length > 1 || !isObject(v)) throw new Error(`${name}: not one map`);
      return v;
    };
    const user = files.map((f, i) => read(f, `values-${i}.yaml`)).reduce((acc, v) => mergeValues(acc, v), {});
    return { ok: coalesce(read(chartValues, 'values.yaml'), user, [], major) };
  } catch (err: unknown) {
    return { error: (err as Error).message };
  }
}

/**
 * Exactly Helm's `.Values`, nulls included (issue 15: a user's `x: null` where the chart has no `x`
 * stays; Helm 4 drops the chart's own nulls, Helm 3 keeps them), or Helm's refusal.
 */
function compare(
  chartValues: string,
  files: string[],
  helm: Record<string, HelmResult<HelmValuesView>>,
): void {
  const { v3, v4 } = helm as Record<'v3' | 'v4', HelmResult<HelmValuesView>>;
  const context = `chart values:\n${chartValues}\nfiles:\n${files.join('\n---\n')}\nHelm 3: ${v3.error ?? 'read'}; Helm 4: ${v4.error ?? 'read'}`;
  expect(v3.ok === undefined, context).toBe(v4.ok === undefined);
  for (const [major, h] of [
    [3, v3],
    [4, v4],
  ] as const) {
    const mine = ours(chartValues, files, major);
    if (h.ok === undefined) {
      expect(mine.ok, `${context}; gloo-guard read it`).toBeUndefined();
      continue;
    }
    expect(mine.error, context).toBeUndefined();
    expect(mine.ok, `${context}\nas Helm ${major}`).toStrictEqual(h.ok.values);
  }
}

function helms(
  cases: Array<{ chart: string; files: string[] }>,
): Array<Record<string, HelmResult<HelmValuesView>>> {
  const asked = cases.map((c) => ({
    files: { 'Chart.yaml': CHART_YAML, 'values.yaml': c.chart },
    valueFiles: c.files,
  }));
  const [v3, v4] = MAJORS.map((m) => renderValues(m, asked));
  return cases.map((_, i) => ({ v3: v3?.[i] ?? {}, v4: v4?.[i] ?? {} }));
}

/** Plain scalars whose YAML 1.1 meaning differs from YAML 1.2's, or from what a reader expects. */
const SCALARS = [
  'yes',
  'no',
  'on',
  'off',
  'y',
  'n',
  'Y',
  'True',
  'TRUE',
  'false',
  '~',
  'null',
  'Null',
  '',
  '1e3',
  '1E3',
  '0x10',
  '012',
  '0o12',
  '0b11',
  '1_000',
  '+1',
  '-0',
  '.5',
  '1.',
  '9223372036854775807',
  '9223372036854775808',
  '18446744073709551616',
  '1:20',
  '2001-12-14',
  '.inf',
  '"yes"',
  "'on'",
  '!!str 1',
  '!!bool "true"',
  '!!int "3"',
  '!!float 1',
  '"\\u00e9"',
  '0.1e+2',
  '00',
  '-012',
  '0_1',
];
const KEYS = ['a', 'b', 'insecure', 'enabled', 'y', 'on', '1', 'null', '"x.y"'];

/** A block map as YAML text, at `indent`, keys possibly repeated. */
function mapText(depth: number): fc.Arbitrary<string> {
  const value: fc.Arbitrary<string> =
    depth <= 0
      ? fc.constantFrom(...SCALARS).map((s) => ` ${s}`)
      : fc.oneof(
          { weight: 3, arbitrary: fc.constantFrom(...SCALARS).map((s) => ` ${s}`) },
          { weight: 1, arbitrary: mapText(depth - 1).map((m) => `\n${indent(m)}`) },
          {
            weight: 1,
            arbitrary: fc
              .array(fc.constantFrom(...SCALARS), { maxLength: 3 })
              .map((l) => ` [${l.join(', ')}]`),
          },
          { weight: 1, arbitrary: fc.constant(' {}') },
        );
  return fc
    .array(fc.tuple(fc.constantFrom(...KEYS), value), { minLength: 1, maxLength: 4 })
    .map((members) => members.map(([k, v]) => `${k}:${v}`).join('\n'));
}

const indent = (text: string): string =>
  text
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');

/** Anchors, aliases and merge keys around a generated map. */
const withMerge = (m: string): string => `base: &b\n${indent(m)}\nmerged:\n  <<: *b\n  a: override\n`;

describe('property: values files and chart defaults, as Helm reads and coalesces them', () => {
  it('when values use YAML 1.1 scalars, tags, repeated keys, merges, nulls and maps over scalars, then gloo-guard’s values equal Helm 3’s and 4’s', () => {
    const gen = fc.record({
      chart: mapText(2),
      files: fc.array(fc.oneof(mapText(2), mapText(1).map(withMerge)), { minLength: 1, maxLength: 2 }),
    });
    const cases = fc.sample(gen, { seed: 20261129, numRuns: 300 });
    const results = helms(cases);
    let read = 0;
    cases.forEach((c, i) => {
      compare(c.chart, c.files, results[i] as Record<string, HelmResult<HelmValuesView>>);
      if (results[i]?.v3?.ok) read++;
    });
    // The generator must reach both sides: values Helm reads, and values it refuses.
    expect(read).toBeGreaterThan(60);
    expect(read).toBeLessThan(290);
  });
});
