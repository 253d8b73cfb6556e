/**
 * Which releases the server decodes on its event loop and which it hands to the worker: through
 * parseBody and prepareRequest, the functions the request handler calls for a small body.
 */
import { describe, expect, it } from 'vitest';
import { defaultConfig, type Config } from '../../src/config/types.js';
import {
  INLINE_RELEASE_BYTES,
  parseBody,
  prepareRequest,
  type BodyOutcome,
} from '../../src/server/prepare.js';
import { finishReview } from '../../src/server/review.js';
import {
  DEFAULT_VALUES,
  PRODUCTION_VALUES,
  objectReview,
  rawReleaseSecret,
  releaseReview,
} from '../fixtures/admission/reviews.js';

/** A body as the API server sends it, prepared the way the server does: with a worker to defer to, or without. */
function prepared(
  review: Record<string, unknown>,
  withWorker: boolean,
  config: Config = defaultConfig(),
): BodyOutcome {
  const parsed = parseBody(Buffer.from(JSON.stringify(review)));
  if (parsed.type !== 'parsed') throw new Error(`the fixture did not parse: ${parsed.type}`);
  return prepareRequest(parsed.request, config, withWorker);
}

/** What the user is answered for a prepared review. */
function answer(
  outcome: BodyOutcome,
  config: Config = defaultConfig(),
): { allowed: boolean; message: string } {
  if (outcome.type !== 'prepared') throw new Error(`not prepared: ${outcome.type}`);
  const d = finishReview(outcome.prepared, config);
  return {
    allowed: d.allowed,
    message: [...d.findings.map((f) => f.message), ...d.warnings, d.inputError ?? ''].join('\n'),
  };
}

/** Values that inflate past `bytes` but compress to almost nothing (repeated text). */
function padded(bytes: number): Record<string, unknown> {
  return { ...PRODUCTION_VALUES, notes: 'x'.repeat(bytes) };
}

describe('small releases are decoded on the event loop, large ones in the worker', () => {
  it('when a small release arrives, then it is judged here, with the same answer the worker would give', () => {
    for (const values of [PRODUCTION_VALUES, DEFAULT_VALUES]) {
      const review = releaseReview({ values });
      const here = prepared(review, true);
      expect(here.type).toBe('prepared');
      expect(answer(here)).toEqual(answer(prepared(review, false)));
    }
    expect(answer(prepared(releaseReview({ values: DEFAULT_VALUES }), true)).allowed).toBe(false);
  });

  it('when a release inflates past the inline size, then it goes to the worker, which judges it whole', () => {
    const review = releaseReview({ values: padded(INLINE_RELEASE_BYTES + 1024) });
    expect(Buffer.byteLength(JSON.stringify(review))).toBeLessThan(64 * 1024);
    expect(prepared(review, true)).toEqual({ type: 'deferred' });
    const whole = answer(prepared(review, false));
    expect(whole.allowed).toBe(true);
    expect(whole.message).toMatch(/^\[chart-values-keys\] top-level key notes /);
  });

  it('when a release does not read, then the worker words the problem, as it did for every release', () => {
    const review = objectReview(rawReleaseSecret('not gzip at all'));
    expect(prepared(review, true)).toEqual({ type: 'deferred' });
    expect(answer(prepared(review, false)).message).toMatch(/release/);
  });

  it('when the configured limit is below the inline size, then a release past it is refused in the limit’s own words', () => {
    const config = defaultConfig();
    config.limits.maxReleaseBytes = 100_000;
    const review = releaseReview({ values: padded(150_000) });
    expect(prepared(review, true, config)).toEqual({ type: 'deferred' });
    expect(answer(prepared(review, false, config), config).message).toMatch(
      /limit of 100000 bytes \(limits\.maxReleaseBytes\)/,
    );
  });

  it('when a release is not a CREATE (Helm marking an old revision superseded), then nothing is decoded either way', () => {
    const review = releaseReview({ values: padded(INLINE_RELEASE_BYTES + 1024) }, { operation: 'UPDATE' });
    expect(prepared(review, true).type).toBe('prepared');
  });
});
