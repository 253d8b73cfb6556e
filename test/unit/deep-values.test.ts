/**
 * Issue 15 point 1: every walk over values is iterative, since Helm reads values 10,000 levels deep
 * and the call stack (and structured clone) give out far sooner.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { coalesce, mergeValues, toJsonText } from '../../src/engine/values.js';
import {
  attachDeep,
  CLONE_CUT_DEPTH,
  detachDeep,
  exactJsonText,
  jsonExactDepth,
} from '../../src/server/offload-clone.js';

/** `{a: {a: ... {leaf: 1}}}`, `levels` objects deep, built from JSON text (no recursion). */
const deep = (levels: number, leaf = 1): Record<string, unknown> =>
  JSON.parse(`${'{"a":'.repeat(levels - 1)}{"leaf":${leaf}}${'}'.repeat(levels - 1)}`) as Record<
    string,
    unknown
  >;

/** The leaf at the bottom of `deep()`. */
function bottom(v: unknown): unknown {
  let cur = v as Record<string, unknown>;
  while ('a' in cur) cur = cur.a as Record<string, unknown>;
  return cur;
}

describe('merging values 10,000 levels deep', () => {
  it('when chart values and user values are both 10,000 levels deep, then they coalesce all the way down', () => {
    const base = deep(10_000);
    (bottom(base) as Record<string, unknown>).kept = true;
    const out = coalesce(base, deep(10_000, 2));
    expect(bottom(out)).toEqual({ leaf: 2, kept: true });
    expect(bottom(base)).toEqual({ leaf: 1, kept: true });
  });

  it('when values files 10,000 levels deep merge, then a null is kept (it deletes a chart default later)', () => {
    const over = deep(10_000);
    (bottom(over) as Record<string, unknown>).leaf = null;
    expect(bottom(mergeValues(deep(10_000), over))).toEqual({ leaf: null });
  });

  it('when a key is __proto__, then it is a value like any other (as in a Go map), never the prototype', () => {
    const over = JSON.parse('{"__proto__": {"polluted": true}, "x": {"__proto__": 1}}') as Record<
      string,
      unknown
    >;
    const out = coalesce({ x: { y: 1 } }, over);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.keys(out)).toEqual(['x', '__proto__']);
    expect(Object.getOwnPropertyDescriptor(out.x, '__proto__')?.value).toBe(1);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('values crossing from the offload worker', () => {
  it('when plain data is written by toJsonText, then it is what JSON.stringify writes', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(toJsonText(v)).toBe(JSON.stringify(v));
      }),
      { numRuns: 300, seed: 15 },
    );
    expect(toJsonText({ a: undefined, b: [undefined, 1], c: Infinity })).toBe('{"b":[null,1],"c":null}');
  });

  it('when data 10,000 levels deep is written, then JSON.parse gives it back', () => {
    const v = deep(10_000);
    expect(bottom(JSON.parse(toJsonText(v)))).toEqual({ leaf: 1 });
  });

  it('when data 10,000 levels deep is sent as exact JSON text, then it is written without recursion and parses back', () => {
    const v = deep(10_000);
    expect(jsonExactDepth(v)).toBe(10_000);
    expect(bottom(JSON.parse(exactJsonText(v) ?? 'null'))).toEqual({ leaf: 1 });
  });

  it('when subtrees are detached past the cut, then a structured clone of the rest survives and attaches back', () => {
    const outcome = { type: 'prepared', subjects: [{ values: deep(10_000), name: 'r' }] };
    const detached = detachDeep(outcome);
    expect(detached).toHaveLength(1);
    expect(detached[0]?.path).toHaveLength(CLONE_CUT_DEPTH);
    const copy = structuredClone(outcome);
    attachDeep(copy, detached);
    expect(bottom(copy.subjects[0]?.values)).toEqual({ leaf: 1 });
    expect(copy.subjects[0]?.name).toBe('r');
  });

  it('when nothing is deep, then nothing is detached', () => {
    const outcome = { a: [{ b: { c: 1 } }], d: null };
    expect(detachDeep(outcome)).toEqual([]);
    expect(outcome).toEqual({ a: [{ b: { c: 1 } }], d: null });
  });
});
