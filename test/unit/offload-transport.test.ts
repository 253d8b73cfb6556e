/**
 * How a prepared review crosses from the offload worker to the event loop: as JSON text when JSON
 * gives it back exactly, else as a structured clone. Either way the event loop must decide the same.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { defaultConfig } from '../../src/config/types.js';
import { attachDeep, detachDeep, exactJsonText } from '../../src/server/offload-clone.js';
import { prepareBody, type BodyOutcome } from '../../src/server/prepare.js';
import { finishReview } from '../../src/server/review.js';
import { fileOf, loadCorpus } from '../corpus/corpus.js';
import { releaseReview } from '../fixtures/admission/reviews.js';

const ROOT = resolve(import.meta.dirname, '../..');
const config = defaultConfig();

/** What the event loop got before: a structured clone, deep parts detached and put back. */
function viaClone(outcome: BodyOutcome): BodyOutcome {
  const copy = structuredClone(outcome);
  const detached = detachDeep(copy);
  const back = structuredClone(copy);
  attachDeep(back, detached);
  return back;
}

function viaText(outcome: BodyOutcome): BodyOutcome {
  const text = exactJsonText(outcome);
  if (text === undefined) throw new Error('no exact JSON text');
  return JSON.parse(text) as BodyOutcome;
}

/** The decision the event loop makes from an outcome. */
function decided(outcome: BodyOutcome): unknown {
  if (outcome.type !== 'prepared') return outcome;
  return finishReview(outcome.prepared, config);
}

describe('JSON text that gives data back exactly', () => {
  it('when data is JSON, then its text parses back to equal data, and only then is text given', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const text = exactJsonText(v);
        // fast-check's JSON values include -0, which JSON writes as 0: that one must not go as text.
        if (text === undefined)
          expect(JSON.stringify(v)).not.toBe(JSON.stringify(JSON.parse(JSON.stringify(v))));
        else expect(JSON.parse(text)).toStrictEqual(v);
      }),
      { numRuns: 500, seed: 17 },
    );
  });

  it('when data holds what JSON would change, then no text is given', () => {
    for (const v of [
      { n: -0 },
      { n: NaN },
      { n: [Infinity] },
      { a: [1, undefined] },
      // eslint-disable-next-line no-sparse-arrays -- a hole is what is tested
      { a: [1, , 2] },
      { d: new Date(0) },
      { m: new Map() },
      { b: 1n },
      { f: (): void => undefined },
    ])
      expect(exactJsonText(v), JSON.stringify(Object.keys(v))).toBeUndefined();
  });

  it('when a property is undefined, then the text leaves it out (reading it gives undefined either way)', () => {
    expect(exactJsonText({ a: undefined, b: 1 })).toBe('{"b":1}');
  });

  it('when a key is __proto__, then it stays an own key on the other side', () => {
    const v = JSON.parse('{"__proto__": {"x": 1}, "y": 2}') as Record<string, unknown>;
    const back = JSON.parse(exactJsonText(v) ?? 'null') as Record<string, unknown>;
    expect(Object.keys(back)).toEqual(['__proto__', 'y']);
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
  });
});

describe('releases of the real-world corpus crossing from the worker', () => {
  const entries = loadCorpus().filter((e) => e.kind === 'values' || e.kind === 'heredoc');

  it('when each corpus values file is installed as a release, then the text path is taken and the decision is the one the clone gave', () => {
    let crossed = 0;
    for (const e of entries) {
      const values = parse(readFileSync(resolve(ROOT, fileOf(e)), 'utf8')) as unknown;
      if (typeof values !== 'object' || values === null || Array.isArray(values)) continue;
      const body = Buffer.from(
        JSON.stringify(
          releaseReview({
            chart: e.chart,
            chartVersion: e.chartVersion,
            namespace: e.namespace,
            values: values as Record<string, unknown>,
          }),
        ),
      );
      const outcome = prepareBody(body, config);
      expect(outcome.type, e.file).toBe('prepared');
      const text = viaText(outcome);
      const clone = viaClone(outcome);
      expect(text, e.file).toEqual(clone);
      expect(decided(text), e.file).toEqual(decided(clone));
      crossed++;
    }
    expect(crossed).toBeGreaterThan(40);
  });
});
