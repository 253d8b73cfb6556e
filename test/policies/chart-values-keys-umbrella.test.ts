// chart-values-keys on umbrella values: the dependency's condition (`mesh.enabled`) is the parent's, not a
// mistyped key of the subchart; a real mistake next to it is still reported (CLI and webhook).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { defaultConfig } from '../../src/config/types.js';
import { releaseSecret } from '../../src/helm/release.js';
import { createApp } from '../../src/server/app.js';
import { objectReview } from '../fixtures/admission/reviews.js';
import { cli } from '../helpers/cli.js';

const PROD = parse(readFileSync('test/fixtures/values/platform-mgmt-production.yaml', 'utf8')) as Record<
  string,
  unknown
>;
const dir = mkdtempSync(join(tmpdir(), 'gg-umbrella-keys-'));

function valuesFile(name: string, content: unknown): string {
  const p = join(dir, name);
  writeFileSync(p, stringify(content));
  return p;
}

/** A release of umbrella chart acme-platform 1.0.0 with gloo-platform under alias `mesh`. */
function umbrella(condition: string, mesh: Record<string, unknown>) {
  const dependency = { name: 'gloo-platform', alias: 'mesh', version: '2.5.0', condition };
  const release = {
    name: 'acme',
    namespace: 'gloo-mesh',
    version: 1,
    info: { status: 'pending-install' },
    chart: { metadata: { name: 'acme-platform', version: '1.0.0', dependencies: [dependency] }, values: {} },
    config: { mesh },
  };
  return releaseSecret(release);
}

async function warnings(secret: Record<string, unknown>): Promise<string[]> {
  const config = defaultConfig();
  const res = await request(createApp({ config: () => config }))
    .post('/validate')
    .send(objectReview(secret));
  expect(res.status).toBe(200);
  expect(res.body.response.allowed).toBe(true);
  return (res.body.response.warnings ?? []) as string[];
}

describe('chart-values-keys on umbrella values', () => {
  it('when check --subchart reads mesh.enabled next to production values, then enabled is not reported; a mistyped key still is', () => {
    const ok = cli([
      'check',
      '--chart',
      'acme-platform',
      '--subchart',
      'mesh=gloo-platform',
      valuesFile('ok.yaml', { mesh: { enabled: true, ...PROD } }),
    ]);
    expect(ok.stdout).toContain('1 judged, 0 denied, 0 warnings');
    expect(ok.code).toBe(0);
    const typo = valuesFile('typo.yaml', { mesh: { enabled: true, glooMgmtSrver: {}, ...PROD } });
    const r = cli(['check', '--chart', 'acme-platform', '--subchart', 'mesh=gloo-platform', typo]);
    expect(r.stdout).toContain(
      '[chart-values-keys] top-level key glooMgmtSrver is not a key of gloo-platform',
    );
    expect(r.stdout).not.toContain('top-level key enabled');
  });

  it('when an umbrella release whose condition is mesh.enabled is admitted, then no warning names enabled; a condition elsewhere leaves mesh.enabled reported', async () => {
    expect(await warnings(umbrella('mesh.enabled', { enabled: true, ...PROD }))).toEqual([]);
    // The condition is read on the parent elsewhere: mesh.enabled is then a key gloo-platform never reads.
    const other = await warnings(umbrella('global.mesh.enabled', { enabled: true, ...PROD }));
    expect(other.some((w) => w.startsWith('[chart-values-keys] top-level key enabled is not a key'))).toBe(
      true,
    );
  });
});
