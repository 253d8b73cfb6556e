// One suite for every policy fixture: test/policies/<policy-id>/{pass,fail}.*.yaml, found automatically.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { defaultConfig, type Config } from '../../src/config/types.js';
import { chartFamily } from '../../src/engine/charts/adapters.js';
import { catalogFor } from '../../src/engine/charts/catalog.js';
import { judge } from '../fixtures/judge.js';
import { releaseFromValues, subjectFromObject } from '../../src/engine/subjects.js';
import type { Subject } from '../../src/engine/types.js';
import { releaseSecret } from '../../src/helm/release.js';
import { POLICIES, policyById } from '../../src/policies/index.js';
import { staticClusterView, type ClusterFixture } from '../helpers/cluster-view.js';

interface Fixture {
  as?: 'release-secret';
  chart?: string;
  chartVersion?: string;
  /** For `as: release-secret`: the stored chart's values; default the catalog's for that version. */
  chartValues?: Record<string, unknown>;
  namespace?: string;
  release?: string;
  values?: Record<string, unknown>;
  objects?: unknown[];
  cluster?: ClusterFixture;
  options?: Record<string, unknown>;
  expect?: string[];
}

const ROOT = import.meta.dirname;
const dirs = readdirSync(ROOT, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name);

/** The chart's own values.yaml as the catalog knows it, for a release Secret built by a fixture. */
function chartDefaults(f: Fixture): Record<string, unknown> {
  const family = chartFamily(f.chart ?? '', f.chartVersion ?? '');
  return family ? catalogFor(family, f.chartVersion ?? '').catalog.defaults : {};
}

function subjectsOf(f: Fixture, file: string): Subject[] {
  if (f.as === 'release-secret') {
    const secret = releaseSecret({
      name: f.release ?? f.chart ?? 'release',
      namespace: f.namespace ?? 'default',
      version: 1,
      info: { status: 'pending-install' },
      chart: {
        metadata: { name: f.chart, version: f.chartVersion ?? '' },
        values: f.chartValues ?? chartDefaults(f),
      },
      config: f.values ?? {},
    } as never);
    const s = subjectFromObject(secret, { location: file }, 64 << 20);
    return s ? [s] : [];
  }
  if (f.chart !== undefined) {
    const s = releaseFromValues({
      chart: f.chart,
      values: [f.values ?? {}],
      source: { location: file },
      ...(f.chartVersion ? { chartVersion: f.chartVersion } : {}),
      ...(f.namespace ? { namespace: f.namespace } : {}),
    });
    if (!s) throw new Error(`${file}: chart ${f.chart} is not judged`);
    return [s];
  }
  return (f.objects ?? []).flatMap((o) => subjectFromObject(o, { location: file }, 64 << 20) ?? []);
}

function configFor(id: string, f: Fixture): Config {
  const cfg = defaultConfig();
  const policy = policyById(id)!;
  cfg.policies[id] = {
    action: policy.defaultAction === 'off' ? 'deny' : policy.defaultAction,
    ...(f.options ? { options: f.options } : {}),
  };
  return cfg;
}

function judgeFixture(id: string, f: Fixture, file: string) {
  const opts = f.cluster ? { cluster: staticClusterView(f.cluster) } : {};
  const results = subjectsOf(f, file).map((s) => judge(s, configFor(id, f), opts));
  expect(results.flatMap((r) => r.errors)).toEqual([]);
  return results.flatMap((r) => r.findings).filter((x) => x.policy === id);
}

describe('policy fixtures', () => {
  it('has a folder of passing and failing fixtures for every policy, and no folder for an unknown id', () => {
    expect(dirs.sort()).toEqual(POLICIES.map((p) => p.id).sort());
    for (const id of dirs) {
      const files = readdirSync(join(ROOT, id));
      expect(
        files.some((n) => n.startsWith('pass.')),
        `${id} has a pass.* fixture`,
      ).toBe(true);
      expect(
        files.some((n) => n.startsWith('fail.')),
        `${id} has a fail.* fixture`,
      ).toBe(true);
    }
  });

  for (const id of dirs) {
    describe(id, () => {
      for (const name of readdirSync(join(ROOT, id)).filter((n) => n.endsWith('.yaml'))) {
        const file = join('test/policies', id, name);
        const f = parse(readFileSync(join(ROOT, id, name), 'utf8')) as Fixture;
        if (name.startsWith('fail.')) {
          it(`when ${name}, then it reports exactly ${JSON.stringify(f.expect)}`, () => {
            expect(f.expect, `${file} must list the expected paths`).toBeDefined();
            const found = judgeFixture(id, f, file);
            expect(found.map((x) => x.path).sort()).toEqual([...(f.expect ?? [])].sort());
            for (const x of found) {
              expect(x.message.startsWith(`[${id}] `)).toBe(true);
              expect(x.message, 'a planted credential is never printed').not.toMatch(/planted/);
              expect(x.message).toContain(`(${x.path}) -> `);
            }
          });
        } else {
          it(`when ${name}, then it reports nothing`, () => {
            expect(f.expect, `${file}: a pass fixture expects nothing`).toBeUndefined();
            expect(judgeFixture(id, f, file).map((x) => x.message)).toEqual([]);
          });
        }
      }
    });
  }
});
