import { readFileSync } from 'node:fs';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/types.js';
import { createApp } from '../../src/server/app.js';

const example = (name: string) =>
  JSON.parse(readFileSync(new URL(`../../examples/${name}`, import.meta.url), 'utf8')) as object;
const app = createApp({ config: () => defaultConfig() });

describe('the sample reviews in examples/', () => {
  it('when the defaults install is sent, then it is denied as examples/README.md shows', async () => {
    const res = await request(app).post('/validate').send(example('review-enterprise-defaults.json'));
    expect(res.body.response.allowed).toBe(false);
    expect(res.body.response.status.message).toMatch(
      /^gloo-guard: 3 violations in release gloo-mesh\/gloo-mesh-enterprise \(chart gloo-mesh-enterprise 2\.0\.9 revision 1\):\n/,
    );
  });

  it('when the production-ready install is sent, then it is allowed', async () => {
    const res = await request(app).post('/validate').send(example('review-enterprise-production.json'));
    expect(res.body.response).toEqual({ uid: '0d3e7b14-5c2a-4f8e-b1d9-7a6c5e4f3b22', allowed: true });
  });

  it('when the README names a sample file, then that file exists', () => {
    const readme = readFileSync(new URL('../../examples/README.md', import.meta.url), 'utf8');
    const named = [...readme.matchAll(/examples\/([\w.-]+\.json)/g)].map((m) => m[1]!);
    expect(new Set(named)).toEqual(
      new Set(['review-enterprise-defaults.json', 'review-enterprise-production.json']),
    );
    for (const name of named) expect(() => example(name)).not.toThrow();
  });
});
