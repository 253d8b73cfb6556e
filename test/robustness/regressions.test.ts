/**
 * One plain case for each bug the robustness suites found, so a regression names itself without a
 * fast-check counterexample to decode. Each is described in docs/reliability.md.
 */
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { yamlDepthBound } from '../../src/cli/inputs.js';
import { defaultConfig } from '../../src/config/types.js';
import { evaluate, isDenied } from '../../src/engine/evaluate.js';
import { releaseFromValues } from '../../src/engine/subjects.js';
import { mergeValues } from '../../src/engine/values.js';
import { nestedDeeperThan } from '../../src/helm/release.js';
import { createApp } from '../../src/server/app.js';
import { releaseReview } from '../fixtures/admission/reviews.js';

const app = createApp({ config: () => defaultConfig() });

describe('regressions found by the robustness suites', () => {
  it('when a values file sets a key to null, then the CLI drops the chart default as Helm and the webhook do', async () => {
    // Found by the webhook/CLI parity property: `relay: null` in an agent's values.
    const values = { relay: null };
    const subject = releaseFromValues({
      chart: 'gloo-mesh-agent',
      chartVersion: '2.1.0',
      values: [values],
      source: { location: 'x' },
    })!;
    const cli = !isDenied(evaluate(subject, defaultConfig()), defaultConfig());
    const res = await request(app)
      .post('/validate')
      .send(releaseReview({ chart: 'gloo-mesh-agent', chartVersion: '2.1.0', values, chartValues: {} }));
    expect(res.body.response.allowed).toBe(cli);
    expect(cli).toBe(false);
    // helm -f a -f b: a later null is kept, so it still deletes the default when coalesced.
    expect(mergeValues({ a: { b: 1, c: 2 } }, { a: { b: null } })).toEqual({ a: { b: null, c: 2 } });
  });

  it('when the Prometheus URL carries credentials or a query, then the violation shows neither', () => {
    const subject = releaseFromValues({
      chart: 'gloo-mesh-enterprise',
      values: [
        {
          prometheus: { enabled: false },
          prometheusUrl: 'https://admin:hunter2@prom.example.com/?token=abc',
        },
      ],
      source: { location: 'x' },
    })!;
    const messages = evaluate(subject, defaultConfig())
      .findings.map((f) => f.message)
      .join('\n');
    expect(messages).toContain('https://***@prom.example.com/?***');
    expect(messages).not.toMatch(/hunter2|token=abc/);
  });

  it('when a path differs from a served one only by case or a trailing slash, then it is 404', async () => {
    for (const path of ['/VALIDATE', '/validate/', '/Healthz', '/metrics/']) {
      expect([path, (await request(app).get(path)).status]).toEqual([path, 404]);
    }
    expect((await request(app).post('/validate').send(releaseReview())).status).toBe(200);
  });

  it('when nesting is counted, then YAML and release values are measured without recursion, at any depth', () => {
    expect(yamlDepthBound('a:\n  b:\n    - c: [1, {d: 2}]\n')).toBeLessThanOrEqual(8);
    expect(yamlDepthBound('['.repeat(1_000_000) + ']'.repeat(1_000_000), 256)).toBe(257);
    expect(yamlDepthBound('k: |\n  [[[[[[[[\n      {{{{\n')).toBeLessThan(4);
    let deep: unknown = {};
    for (let i = 0; i < 200_000; i++) deep = { a: deep };
    expect(nestedDeeperThan(deep, 256)).toBe(true);
    expect(nestedDeeperThan({ a: [{ b: [] }] }, 256)).toBe(false);
  });
});
