/**
 * One plain case for each bug the robustness suites found, so a regression names itself without a
 * fast-check counterexample to decode. Each is described in docs/reliability.md.
 */
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { yamlDepthBound } from '../../src/cli/inputs.js';
import { defaultConfig } from '../../src/config/types.js';
import { isDenied } from '../../src/engine/evaluate.js';
import { judge } from '../fixtures/judge.js';
import { releaseFromValues } from '../../src/engine/subjects.js';
import { mergeValues } from '../../src/engine/values.js';
import { nestedDeeperThan } from '../../src/helm/release.js';
import { createApp } from '../../src/server/app.js';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:tls';
import { CHART_DEFAULTS } from '../../src/engine/charts/defaults.js';
import { PRODUCTION_VALUES, releaseReview } from '../fixtures/admission/reviews.js';
import { reviewResponse, serveApp, sleep, validate } from './support.js';

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
    const cli = !isDenied(judge(subject, defaultConfig()), defaultConfig());
    const res = await request(app)
      .post('/validate')
      // The release ships the chart's own values, which the CLI assumes for a values file.
      .send(
        releaseReview({
          chart: 'gloo-mesh-agent',
          chartVersion: '2.1.0',
          values,
          chartValues: CHART_DEFAULTS['gloo-mesh-agent'],
        }),
      );
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
    const messages = judge(subject, defaultConfig())
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

  it('when clients abandon large reviews while they wait for a turn, then the turns are not lost', async () => {
    // Found reviewing the offload gate: a request destroyed before its turn never ended its body
    // read, so its turn was held for ever, and after four such, no large review was ever read again.
    const server = await serveApp(createApp({ config: () => defaultConfig() }));
    // Incompressible values, so the review stays large after Helm's gzip: about 270 KB.
    const pad = randomBytes(150_000).toString('base64');
    const large = JSON.stringify(releaseReview({ values: { ...PRODUCTION_VALUES, pad } }));
    expect(large.length).toBeGreaterThan(4 * 64 * 1024);
    /** Sends headers and the start of the body, and is gone after `ms`. */
    const abandon = (ms: number): { opened: Promise<unknown>; closed: Promise<unknown> } => {
      const socket = connect({
        host: '127.0.0.1',
        port: server.port,
        servername: 'localhost',
        ca: server.ca,
      });
      socket.on('error', () => undefined);
      const opened = new Promise((r) => socket.once('secureConnect', r)).then(() => {
        socket.write(
          `POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n` +
            `Content-Length: ${large.length}\r\n\r\n${large.slice(0, 1000)}`,
        );
        setTimeout(() => socket.destroy(), ms);
      });
      return { opened, closed: new Promise((r) => socket.once('close', r)) };
    };
    // Four hold every turn for a second; eight more queue behind them and leave while they wait.
    const holders = Array.from({ length: 4 }, () => abandon(1000));
    await Promise.all(holders.map((h) => h.opened));
    await sleep(100);
    const queued = Array.from({ length: 8 }, () => abandon(200));
    const abandoned = [...holders, ...queued].map((h) => h.closed);
    await Promise.all(abandoned);
    await sleep(100);
    const answers = await Promise.all(Array.from({ length: 6 }, () => validate(server, large, 5000)));
    for (const a of answers) expect(reviewResponse(a).allowed).toBe(true);
    await server.close();
  });
});
