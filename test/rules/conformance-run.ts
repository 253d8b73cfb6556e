/** Runs the CEL specification's conformance tests (from @bufbuild/cel-spec) through the rule compiler. */
import { celUint, isCelList, isCelMap, isCelUint, type CelInput, type CelValue } from '@bufbuild/cel';
import type { Value } from '@bufbuild/cel-spec/cel/expr/value_pb.js';
import { getConformanceSuite } from '@bufbuild/cel-spec/testdata/tests.js';
import { CelCompileError, compileCel } from '../../src/rules/cel.js';

/** One conformance test's outcome. */
export interface Outcome {
  name: string;
  result: 'pass' | 'fail' | 'unsupported' | 'not-applicable';
  detail?: string;
}

function input(v: Value): CelInput | undefined {
  const k = v.kind;
  switch (k.case) {
    case 'int64Value':
      return k.value;
    case 'uint64Value':
      return celUint(k.value);
    case 'doubleValue':
    case 'stringValue':
    case 'boolValue':
      return k.value;
    case 'bytesValue':
      return k.value;
    case 'nullValue':
      return null;
    case 'listValue': {
      const xs = k.value.values.map(input);
      return xs.some((x) => x === undefined) ? undefined : (xs as CelInput[]);
    }
    case 'mapValue': {
      const m = new Map<string | bigint | boolean, CelInput>();
      for (const e of k.value.entries) {
        const key = e.key ? input(e.key) : undefined;
        const val = e.value ? input(e.value) : undefined;
        if (
          val === undefined ||
          !(typeof key === 'string' || typeof key === 'bigint' || typeof key === 'boolean')
        )
          return undefined;
        m.set(key, val);
      }
      return m;
    }
    default:
      return undefined;
  }
}

function same(got: CelValue, want: Value): boolean {
  const k = want.kind;
  if (k.case === 'listValue' || k.case === 'mapValue') return sameAggregate(got, want);
  switch (k.case) {
    case 'int64Value':
      return got === k.value;
    case 'uint64Value':
      return isCelUint(got) && got.value === k.value;
    case 'doubleValue':
      return (
        typeof got === 'number' &&
        (Object.is(got, k.value) || got === k.value || (isNaN(got) && isNaN(k.value)))
      );
    case 'stringValue':
    case 'boolValue':
      return got === k.value;
    case 'nullValue':
      return got === null;
    case 'bytesValue':
      return got instanceof Uint8Array && Buffer.from(got).equals(Buffer.from(k.value));
    case 'typeValue':
      return typeof got === 'object' && got !== null && 'name' in got && got.name === k.value;
    default:
      return false;
  }
}

function sameAggregate(got: CelValue, want: Value): boolean {
  const k = want.kind;
  switch (k.case) {
    case 'listValue': {
      if (!isCelList(got)) return false;
      const xs = [...got];
      return xs.length === k.value.values.length && xs.every((x, i) => same(x, k.value.values[i] as Value));
    }
    case 'mapValue':
      return (
        isCelMap(got) &&
        got.size === k.value.entries.length &&
        k.value.entries.every((e) => {
          const key = e.key ? input(e.key) : undefined;
          if (!(typeof key === 'string' || typeof key === 'bigint' || typeof key === 'boolean')) return false;
          const v = got.get(key);
          return v !== undefined && e.value !== undefined && same(v, e.value);
        })
      );
    default:
      return false;
  }
}

type Test = ReturnType<typeof getConformanceSuite>['suites'][number]['tests'][number];

function runOne(t: Test): Outcome {
  const o = t.original;
  if (o.typeEnv.length > 0 || o.container !== '' || o.disableMacros || o.checkOnly)
    return {
      name: t.name,
      result: 'not-applicable',
      detail: 'needs proto types, a container or checking only',
    };
  const vars: Record<string, CelInput> = {};
  for (const [name, ev] of Object.entries(o.bindings)) {
    const v = ev.kind.case === 'value' ? input(ev.kind.value) : undefined;
    if (v === undefined) return { name: t.name, result: 'not-applicable', detail: 'a proto binding' };
    vars[name] = v;
  }
  const m = o.resultMatcher;
  if (m.case !== 'value' && m.case !== 'evalError')
    return { name: t.name, result: 'not-applicable', detail: `expects ${String(m.case)}` };
  let program;
  try {
    program = compileCel(o.expr, Object.keys(vars));
  } catch (err: unknown) {
    if (err instanceof CelCompileError) return { name: t.name, result: 'unsupported', detail: err.message };
    throw err;
  }
  try {
    const { value } = program.run(vars, Number.MAX_SAFE_INTEGER);
    if (m.case === 'evalError') return { name: t.name, result: 'fail', detail: 'expected an error' };
    return same(value, m.value)
      ? { name: t.name, result: 'pass' }
      : {
          name: t.name,
          result: 'fail',
          detail: `got ${typeof value === 'object' ? JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)) : String(value)}`,
        };
  } catch (err: unknown) {
    if (m.case === 'evalError') return { name: t.name, result: 'pass' };
    return { name: t.name, result: 'fail', detail: err instanceof Error ? err.message : String(err) };
  }
}

/** Every test of the named conformance sections, with its outcome. */
export function runConformance(sections: readonly string[]): Map<string, Outcome[]> {
  const suite = getConformanceSuite();
  const out = new Map<string, Outcome[]>();
  for (const name of sections) {
    const section = suite.suites.find((s) => s.name === name);
    if (!section) throw new Error(`no conformance section ${name}`);
    out.set(
      name,
      section.suites.flatMap((sub) =>
        sub.tests.map((t) => ({ ...runOne(t), name: `${sub.name}/${t.name}` })),
      ),
    );
  }
  return out;
}
