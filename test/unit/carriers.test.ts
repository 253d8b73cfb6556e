// The carriers' pure parts: Helm's --set, umbrella dependency conditions, Flux valuesFrom merging.
import { describe, expect, it } from 'vitest';
import { setValue, SetValueError } from '../../src/engine/carriers/set-values.js';
import { judgedDependencies, versionOfConstraint } from '../../src/engine/carriers/umbrella.js';
import { InputError, NotJudged, subjectsFromObject } from '../../src/engine/subjects.js';
import type { ReleaseSubject } from '../../src/engine/types.js';

const src = { location: 'test' };

describe("Helm's --set as Argo CD parameters and Flux targetPath use it", () => {
  it('when a value is unquoted, then true/false/null/integers are typed and the rest stays a string', () => {
    expect(setValue({}, 'a.b', 'true')).toEqual({ a: { b: true } });
    expect(setValue({}, 'a', '0')).toEqual({ a: 0 });
    expect(setValue({}, 'a', '012')).toEqual({ a: '012' });
    expect(setValue({}, 'a', '-7')).toEqual({ a: -7 });
    expect(setValue({}, 'a', 'null')).toEqual({ a: null });
    expect(setValue({}, 'a', '1.5')).toEqual({ a: '1.5' });
    expect(setValue({}, 'a', 'true', true)).toEqual({ a: 'true' });
  });

  it('when names escape dots or index lists, then the path is built as Helm builds it, without changing the input', () => {
    const base = { x: { keep: 1 } };
    expect(setValue(base, 'x.anno\\.io/y', 'v')).toEqual({ x: { keep: 1, 'anno.io/y': 'v' } });
    expect(base).toEqual({ x: { keep: 1 } });
    expect(setValue({}, 'l[1].n', 'v')).toEqual({ l: [null, { n: 'v' }] });
    expect(setValue({}, 'l', '{a,true}')).toEqual({ l: ['a', true] });
  });

  it('when a name is bad, then a SetValueError says so', () => {
    expect(() => setValue({}, '', 'v')).toThrow(SetValueError);
    expect(() => setValue({}, 'a[x]', 'v')).toThrow(/bad list index/);
    expect(() => setValue({}, 'a[99999999]', 'v')).toThrow(/bad list index/);
  });
});

describe('umbrella chart dependencies', () => {
  const dep = (extra: Record<string, unknown>) => [{ name: 'gloo-platform', version: '2.5.1', ...extra }];

  it('when a condition path holds a real boolean, then it decides; a string or a missing path leaves it enabled', () => {
    expect(judgedDependencies(dep({ condition: 'gp.enabled' }), { gp: { enabled: false } })[0]?.enabled).toBe(
      false,
    );
    expect(
      judgedDependencies(dep({ condition: 'gp.enabled' }), { gp: { enabled: 'false' } })[0]?.enabled,
    ).toBe(true);
    expect(judgedDependencies(dep({ condition: 'nope.enabled' }), {})[0]?.enabled).toBe(true);
    // The first path that resolves to a boolean wins.
    const two = dep({ condition: 'a.enabled,b.enabled' });
    expect(judgedDependencies(two, { b: { enabled: false } })[0]?.enabled).toBe(false);
  });

  it('when tags are used, then any true tag enables and otherwise a false tag disables; a condition wins over tags', () => {
    const tagged = dep({ tags: ['mesh', 'gloo'] });
    expect(judgedDependencies(tagged, { tags: { mesh: false } })[0]?.enabled).toBe(false);
    expect(judgedDependencies(tagged, { tags: { mesh: false, gloo: true } })[0]?.enabled).toBe(true);
    const both = dep({ tags: ['mesh'], condition: 'gp.enabled' });
    expect(judgedDependencies(both, { tags: { mesh: false }, gp: { enabled: true } })[0]?.enabled).toBe(true);
  });

  it('when the dependency has an alias, then its values key is the alias; other charts are ignored', () => {
    const deps = [{ name: 'redis', version: '1' }, ...dep({ alias: 'mesh' })];
    expect(judgedDependencies(deps, {})).toEqual([
      { chart: 'gloo-platform', version: '2.5.1', key: 'mesh', enabled: true, conditionKeys: [] },
    ]);
    // Only a condition path under the dependency's own key names a key passed down to it.
    const cond = dep({ alias: 'mesh', condition: 'global.mesh.enabled, mesh.enabled,mesh.on.x' });
    expect(judgedDependencies(cond, {})[0]?.conditionKeys).toEqual(['enabled', 'on']);
  });

  it('when Helm stored the dependency under its alias (name replaced), then the chart is told from the values under it', () => {
    const stored = [{ name: 'mesh', alias: 'mesh', version: '2.4.3' }];
    expect(judgedDependencies(stored, { mesh: { glooMgmtServer: {} } })[0]?.chart).toBe('gloo-platform');
    expect(judgedDependencies(stored, { mesh: { glooMeshMgmtServer: {} } })[0]?.chart).toBe(
      'gloo-mesh-enterprise',
    );
    expect(judgedDependencies(stored, { mesh: { replicas: 1 } })).toEqual([]);
  });

  it('when the version is a range, then its first version is judged', () => {
    expect(versionOfConstraint('~2.5.0')).toBe('2.5.0');
    expect(versionOfConstraint('>=2.4.0 <2.6.0')).toBe('2.4.0');
    expect(versionOfConstraint('2.5.x')).toBe('2.5.0');
    expect(versionOfConstraint('v2.6.0-beta1')).toBe('2.6.0-beta1');
    expect(versionOfConstraint('*')).toBe('');
  });
});

describe('Flux HelmRelease values', () => {
  const hr = (spec: Record<string, unknown>) => ({
    apiVersion: 'helm.toolkit.fluxcd.io/v2beta2',
    kind: 'HelmRelease',
    metadata: { name: 'gp', namespace: 'flux-apps' },
    spec: { chart: { spec: { chart: 'gloo-platform', version: '2.5.*' } }, ...spec },
  });
  const data: Record<string, Record<string, string>> = {
    'ConfigMap/flux-apps/base': {
      'values.yaml': 'prometheus:\n  enabled: false\nglooMgmtServer:\n  enabled: true\n',
    },
    'Secret/flux-apps/quoted': { v: '"true"' },
  };
  const lookup = (kind: string, ns: string, name: string) => data[`${kind}/${ns}/${name}`] ?? null;

  it('when valuesFrom and values are both set, then values win, targetPath sets one value and a quoted one stays a string', () => {
    const [s] = subjectsFromObject(
      hr({
        targetNamespace: 'gloo-mesh',
        valuesFrom: [
          { kind: 'ConfigMap', name: 'base' },
          { kind: 'Secret', name: 'quoted', valuesKey: 'v', targetPath: 'common.cluster' },
        ],
        values: { prometheus: { enabled: true } },
      }),
      src,
      1 << 20,
      { lookup },
    ) as ReleaseSubject[];
    expect(s?.userValues).toEqual({
      prometheus: { enabled: true },
      glooMgmtServer: { enabled: true },
      common: { cluster: 'true' },
    });
    expect(s?.release).toEqual({ name: 'gloo-mesh-gp', namespace: 'gloo-mesh' });
    expect(s?.chart.version).toBe('2.5.0');
  });

  it('when the object is malformed, then the InputError names it; an ApplicationSet is NotJudged', () => {
    expect(() => subjectsFromObject(hr({ valuesFrom: [{ kind: 'Pod', name: 'x' }] }), src, 1 << 20)).toThrow(
      new InputError(
        'HelmRelease flux-apps/gp: spec.valuesFrom[0] needs kind ConfigMap or Secret and a name',
      ),
    );
    const set = { apiVersion: 'argoproj.io/v1alpha1', kind: 'ApplicationSet', metadata: { name: 's' } };
    expect(() => subjectsFromObject(set, src, 1 << 20)).toThrow(NotJudged);
  });
});
