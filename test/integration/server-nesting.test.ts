/**
 * Issue 15 item 7: a release nested millions of levels deep in a field no policy reads. Helm cannot
 * read it (Go stops at 10,000 levels), so the webhook refuses it as unreadable, after a scan that
 * keeps one byte per level. A small body's release is inflated on the event loop only up to
 * INLINE_RELEASE_BYTES; past that, or unreadable, it goes to the worker, a few at a time, so small
 * bombs never hold the event loop. Figures: bench/nesting-bomb.ts.
 */
import request from 'supertest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/types.js';
import { createApp } from '../../src/server/app.js';
import { Offload } from '../../src/server/offload.js';
import { INLINE_RELEASE_BYTES } from '../../src/server/prepare.js';
import {
  deploymentObject,
  nestingBombSecret,
  objectReview,
  PRODUCTION_VALUES,
  releaseReview,
} from '../fixtures/admission/reviews.js';
import { cli } from '../helpers/cli.js';

const WORKER = new URL('../fixtures/offload/echo-worker.mjs', import.meta.url);

const MiB = 1024 * 1024;

describe('item 7: releases nested past what Helm reads', () => {
  it('when a 53 KB review nests 15 million levels, then it is refused as unreadable, never allowed', async () => {
    const config = defaultConfig();
    const body = objectReview(nestingBombSecret(15_000_000, { allFields: false }));
    expect(JSON.stringify(body).length).toBeLessThan(64 * 1024);
    const res = await request(createApp({ config: () => config }))
      .post('/validate')
      .send(body);
    expect(res.status).toBe(200);
    expect(res.body.response.allowed).toBe(false);
    expect(res.body.response.status.message).toContain('nested more than 10000 levels deep');
  });

  it('when a small body holds a release that inflates past what the event loop decodes, or a bomb, then it goes to the worker through the gate; a small release and a small Deployment do not', async () => {
    const config = defaultConfig();
    const offload = new Offload(1, WORKER);
    const app = createApp({ config: () => config, offload });
    const large = releaseReview({
      values: { ...PRODUCTION_VALUES, notes: 'x'.repeat(INLINE_RELEASE_BYTES) },
    });
    const bomb = objectReview(nestingBombSecret(15_000, { allFields: false }));
    for (const review of [large, bomb]) {
      const res = await request(app).post('/validate').send(review);
      // The stand-in worker answers with the size of what it got: the release went there.
      expect(res.status).toBe(400);
      expect(res.body.message).toBe(`${JSON.stringify(review).length} bytes`);
    }
    // Judged here (the stand-in worker could only answer 400): nested 1,000 levels, as Helm reads.
    const small = await request(app)
      .post('/validate')
      .send(objectReview(nestingBombSecret(1000, { allFields: false })));
    expect(small.status).toBe(200);
    expect(typeof small.body.response.allowed).toBe('boolean');
    const deployment = await request(app)
      .post('/validate')
      .send(objectReview(deploymentObject('gloo-mesh-mgmt-server', 'gloo-mesh')));
    expect(deployment.status).toBe(200);
    expect(deployment.body.response.allowed).toBe(true);
    await offload.close();
  });

  // Each bomb inflates to 30 MB, past the 8 MiB limit, and its trailer says 0: a decoder that inflates
  // the whole release before looking refuses it for its size; one that watches the text as it comes
  // stops at level 10,001, long before the limit, and says why Helm cannot read it.
  for (const [name, textBytes] of [
    ['300 KiB', 300 * 1024],
    ['1 MiB', MiB],
  ] as const) {
    it(`when the nesting starts ${name} into the release (past the first probes), then the webhook and check refuse it for its nesting, before inflating to the limit`, async () => {
      const config = { ...defaultConfig(), limits: { maxReleaseBytes: 8 * MiB } };
      const secret = nestingBombSecret(15_000_000, { allFields: false, textBytes, forged: true });
      const res = await request(createApp({ config: () => config }))
        .post('/validate')
        .send(objectReview(secret));
      expect(res.status).toBe(200);
      expect(res.body.response.allowed).toBe(false);
      expect(res.body.response.status.message).toContain(
        'release is not valid JSON after gunzip (nested more than 10000 levels deep)',
      );
      const dir = mkdtempSync(join(tmpdir(), 'gg-late-bomb-'));
      writeFileSync(join(dir, 'config.yaml'), `limits:\n  maxReleaseBytes: ${8 * MiB}\n`);
      writeFileSync(join(dir, 'secret.json'), JSON.stringify(secret));
      const r = cli(['check', '--config', join(dir, 'config.yaml'), join(dir, 'secret.json')]);
      expect(r.code).toBe(2);
      expect(r.stdout + r.stderr).toContain('nested more than 10000 levels deep');
      expect(r.stdout + r.stderr).not.toMatch(/\n\s+at /);
    });
  }
});
