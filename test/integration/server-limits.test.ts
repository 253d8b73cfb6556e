import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/types.js';
import { createApp } from '../../src/server/app.js';
import {
  gzipBombSecret,
  objectReview,
  PRODUCTION_VALUES,
  releaseReview,
} from '../fixtures/admission/reviews.js';

const MiB = 1024 * 1024;
const app = createApp({ config: () => defaultConfig() });

describe('limits: a gzip bomb', () => {
  let body: string;

  beforeAll(async () => {
    // A legal Secret (data under 1 MiB) whose release expands to 512 MiB.
    const secret = (await gzipBombSecret(512 * MiB)) as { data: { release: string } };
    expect(secret.data.release.length).toBeLessThan(MiB);
    body = JSON.stringify(objectReview(secret));
    await request(app).get('/healthz');
  });

  it('when a release expands to 512 MiB, then it is refused naming the limit, with bounded memory', async () => {
    const rssBefore = process.memoryUsage().rss;
    const peakBefore = process.resourceUsage().maxRSS * 1024;
    const res = await request(app).post('/validate').set('Content-Type', 'application/json').send(body);
    const peakGrowth = process.resourceUsage().maxRSS * 1024 - peakBefore;
    const rssGrowth = process.memoryUsage().rss - rssBefore;

    expect(res.status).toBe(200);
    expect(res.body.response.allowed).toBe(false);
    expect(res.body.response.status.message).toContain(
      'release expands past the limit of 67108864 bytes (limits.maxReleaseBytes)',
    );
    // Decompression stops at limits.maxReleaseBytes (64 MiB), far from the 512 MiB the bomb holds.
    expect(peakGrowth).toBeLessThan(160 * MiB);
    expect(rssGrowth).toBeLessThan(160 * MiB);
  });

  it('when limits.maxReleaseBytes is lower, then decompression stops there', async () => {
    const config = { ...defaultConfig(), limits: { maxReleaseBytes: 4 * MiB } };
    const small = createApp({ config: () => config });
    const res = await request(small).post('/validate').set('Content-Type', 'application/json').send(body);
    expect(res.body.response.status.message).toContain('limit of 4194304 bytes');
  });
});

describe('limits: the largest legal objects', () => {
  // Incompressible values make the largest release a 1 MiB Secret can hold.
  const blob = randomBytes(760 * 1024).toString('base64');
  const create = releaseReview({ values: { ...PRODUCTION_VALUES, blob } });
  // What the API server counts against its 1 MiB limit: the bytes of data.release, not their base64.
  const wire = (create.request as { object: { data: { release: string } } }).object.data.release;
  const secretBytes = Buffer.from(wire, 'base64').length;

  it('when a CREATE carries a release Secret of nearly 1 MiB, then it is judged', async () => {
    expect(secretBytes).toBeGreaterThan(0.95 * MiB);
    expect(secretBytes).toBeLessThanOrEqual(MiB);
    expect(JSON.stringify(create).length).toBeGreaterThan(1.3 * MiB);
    const res = await request(app).post('/validate').send(create);
    expect(res.status).toBe(200);
    expect(res.body.response.allowed).toBe(true);
  });

  it('when an UPDATE carries it twice (object and oldObject, about 2.8 MB), then it is accepted and allowed', async () => {
    const update = releaseReview({ values: { ...PRODUCTION_VALUES, blob } }, { operation: 'UPDATE' });
    const size = JSON.stringify(update).length;
    expect(size).toBeGreaterThan(2.6 * MiB);
    const res = await request(app).post('/validate').send(update);
    expect(res.status).toBe(200);
    expect(res.body.response.allowed).toBe(true);
  });
});
