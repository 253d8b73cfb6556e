// The fast path (src/rules/compiled.ts) may only answer where CEL itself gives the same answer. These
// tests run it beside @bufbuild/cel, the engine it stands in for: every built-in check over generated
// objects (well-formed and not), and random expressions of the subset over random data. Wherever the
// fast path decides, CEL must give the same value and no error; where it does not, CEL runs anyway.
import type { CelInput } from '@bufbuild/cel';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BUILTIN_CEL, type CelCheckGroup } from '../../src/rules/builtin.js';
import { compileFast, compileGroupFast, MEMO, NotDecided, type Plain } from '../../src/rules/compiled.js';
import { checksFingerprint, handWritten, WRITTEN_FOR } from '../../src/rules/pod-template-fast.js';
import { programFor } from '../../src/rules/policy.js';
import { fromCel, toCel } from '../../src/rules/values.js';

const NAMESPACES = { management: 'gloo-mesh', addons: 'gloo-mesh-addons' };
const VARIABLES = ['variables'];

type Outcome = { value: unknown } | { error: true };

function viaCel(source: string, vars: Record<string, CelInput>, names = VARIABLES): Outcome {
  try {
    return { value: fromCel(programFor(source, names).run(vars).value) };
  } catch {
    return { error: true };
  }
}

/** The fast path's value, or undefined when it leaves the decision to CEL. */
function viaFast(source: string, vars: Record<string, unknown>): { value: Plain } | undefined {
  const p = compileFast(source);
  if (!p) throw new Error(`not compiled by the fast path: ${source}`);
  try {
    return { value: p(vars) };
  } catch (err: unknown) {
    if (err instanceof NotDecided) return undefined;
    throw err;
  }
}

/** Runs a group's variables and validations in order in both; returns how many the fast path decided. */
function compareGroup(g: CelCheckGroup, base: Record<string, unknown>): { decided: number; total: number } {
  const fastVars: Record<string, unknown> = { namespaces: NAMESPACES };
  const celVars: Record<string, CelInput> = { namespaces: toCel(NAMESPACES) };
  const fast = { ...base, variables: fastVars };
  const cel: Record<string, CelInput> = { variables: celVars };
  for (const [k, v] of Object.entries(base)) cel[k] = toCel(v);
  let decided = 0;
  const steps = [...g.variables, ...g.validations.map((v, i) => [`check${i}`, v.expression] as const)];
  for (const [name, source] of steps) {
    const f = viaFast(source, fast);
    const c = viaCel(source, cel);
    if (f) {
      decided += 1;
      expect({ source, outcome: c }).toEqual({ source, outcome: { value: f.value } });
    }
    // A variable CEL could not compute ends the group, as it does in the engine.
    if ('error' in c) return { decided, total: steps.length };
    if (!f) return { decided, total: steps.length };
    fastVars[name] = f.value;
    celVars[name] = toCel(c.value);
  }
  return { decided, total: steps.length };
}

/** A group as the engine runs it: one compiled function, true only when every check holds. */
function viaGroup(g: CelCheckGroup, base: Record<string, unknown>): boolean | 'undecided' {
  const f = compileGroupFast(
    g.variables,
    g.validations.map((v) => v.expression),
  );
  if (!f) throw new Error(`group of ${g.policy} not compiled by the fast path`);
  try {
    return f({ ...base, [MEMO]: [] }, { namespaces: NAMESPACES });
  } catch (err: unknown) {
    if (err instanceof NotDecided) return 'undecided';
    throw err;
  }
}

/** Whether CEL computes every variable and finds every validation true (what the engine's CEL path does). */
function celHolds(g: CelCheckGroup, base: Record<string, unknown>): boolean {
  const celVars: Record<string, CelInput> = { namespaces: toCel(NAMESPACES) };
  const cel: Record<string, CelInput> = { variables: celVars };
  for (const [k, v] of Object.entries(base)) cel[k] = toCel(v);
  for (const [name, source] of g.variables) {
    const c = viaCel(source, cel);
    if ('error' in c) return false;
    celVars[name] = toCel(c.value);
  }
  return g.validations.every((v) => {
    const c = viaCel(v.expression, cel);
    return 'value' in c && c.value === true;
  });
}

const KEYS = [
  'sidecar.istio.io/inject',
  'istio.io/rev',
  'istio-injection',
  'istio.io/dataplane-mode',
  'prometheus.io/scrape',
  'prometheus.io/port',
  'prometheus.io/path',
  'service.beta.kubernetes.io/aws-load-balancer-internal',
  'service.beta.kubernetes.io/aws-load-balancer-scheme',
  'networking.gke.io/load-balancer-type',
  'cloud.google.com/load-balancer-type',
  'service.beta.kubernetes.io/azure-load-balancer-internal',
  'app',
];
const WORDS = ['true', 'false', 'enabled', 'disabled', 'ambient', 'none', '', 'TRUE', 'Internal', 'internal'];
const STRANGE = ['İNTERNAL', 'INTERNAL', '0.0.0.0/0', '9091', '/metrics', 'canary', 'ÄMBIENT'];
const NAMES = ['gloo-mesh-mgmt-server', 'gloo-mesh', 'gloo-mesh-addons', 'web'];

const word = fc.constantFrom(...WORDS, ...STRANGE);
/** Label or annotation maps as the API server stores them: strings only. */
const stringMap = fc.dictionary(fc.constantFrom(...KEYS), word, { maxKeys: 6 });
/** What a hand-written file may hold instead: numbers, bools, nulls, lists, nested maps. */
const oddValue: fc.Arbitrary<unknown> = fc.oneof(
  word,
  fc.integer({ min: -2, max: 2 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
  fc.constant([]),
  fc.array(word, { maxLength: 2 }),
  fc.constant({}),
);
const oddMap = fc.oneof(
  stringMap,
  fc.dictionary(fc.constantFrom(...KEYS), oddValue, { maxKeys: 4 }),
  oddValue,
);

function metadata(labels: fc.Arbitrary<unknown>, odd: boolean): fc.Arbitrary<Record<string, unknown>> {
  const name = fc.constantFrom(...NAMES);
  return fc.record(
    { name: odd ? fc.oneof(name, oddValue) : name, labels, annotations: labels },
    { requiredKeys: ['name'] },
  );
}

function objectOf(kind: CelCheckGroup['kind'], odd: boolean): fc.Arbitrary<Record<string, unknown>> {
  const maps = odd ? oddMap : stringMap;
  const md = metadata(maps, odd);
  const other = odd ? oddValue : fc.constant({});
  if (kind === 'namespace') return fc.record({ metadata: md });
  const type = fc.constantFrom('LoadBalancer', 'ClusterIP');
  if (kind === 'service')
    return fc.record(
      { metadata: md, spec: fc.record({ type: odd ? fc.oneof(type, oddValue) : type }) },
      { requiredKeys: ['metadata'] },
    );
  const template = fc.record({ metadata: fc.oneof(metadata(maps, odd), other) }, { requiredKeys: [] });
  return fc.record(
    {
      metadata: md,
      spec: fc.oneof(fc.record({ template: fc.oneof(template, other) }, { requiredKeys: [] }), other),
    },
    { requiredKeys: ['metadata'] },
  );
}

function bindings(object: Record<string, unknown>, namespace: string): Record<string, unknown> {
  const md = object.metadata as { name?: unknown };
  return {
    object,
    oldObject: null,
    request: { namespace, name: typeof md.name === 'string' ? md.name : '' },
    namespaceObject: null,
    values: null,
    userValues: null,
    chart: null,
    release: null,
  };
}

const namespace = fc.constantFrom('gloo-mesh', 'gloo-mesh-addons', 'apps');

describe('the fast path for CEL decides only as CEL does', () => {
  it('when the built-in checks are compiled, then every variable and validation is in the fast subset', () => {
    for (const g of BUILTIN_CEL)
      for (const source of [...g.variables.map(([, s]) => s), ...g.validations.map((v) => v.expression)])
        expect({ source, compiled: compileFast(source) !== undefined }).toEqual({ source, compiled: true });
  });

  it('when a whole group runs as one function, then it says true only where CEL finds every check true, and decides every well-formed object', () => {
    for (const g of BUILTIN_CEL)
      for (const odd of [false, true])
        fc.assert(
          fc.property(objectOf(g.kind, odd), namespace, (object, ns) => {
            const base = bindings(object, ns);
            const fast = viaGroup(g, base);
            if (!odd) expect(fast).not.toBe('undecided');
            if (fast !== 'undecided')
              expect({ policy: g.policy, fast }).toEqual({ policy: g.policy, fast: celHolds(g, base) });
          }),
          { numRuns: 300, seed: odd ? 61 : 59 },
        );
  });

  it("when a group names a variable twice or hides the config's namespaces, then it is left to CEL", () => {
    expect(
      compileGroupFast(
        [
          ['a', 'true'],
          ['a', 'false'],
        ],
        ['variables.a'],
      ),
    ).toBeUndefined();
    expect(compileGroupFast([['namespaces', '{}']], ['true'])).toBeUndefined();
    expect(compileGroupFast([], ["'x' in variables"])).toBeUndefined();
    const f = compileGroupFast(
      [
        ['a', "'x'"],
        ['b', "variables.a == 'x'"],
      ],
      ['variables.b', "variables.namespaces.management == 'gloo-mesh'"],
    );
    expect(f?.({}, { namespaces: NAMESPACES })).toBe(true);
  });

  it('when objects as the API server stores them are checked, then the fast path decides every check, as CEL', () => {
    for (const g of BUILTIN_CEL)
      fc.assert(
        fc.property(objectOf(g.kind, false), namespace, (object, ns) => {
          const { decided, total } = compareGroup(g, bindings(object, ns));
          // Names and label values are strings here: the fast path leaves nothing to CEL.
          expect(decided).toBe(total);
        }),
        { numRuns: 300, seed: 17 },
      );
  });

  it('when hand-written objects hold numbers, bools, nulls and lists, then whatever the fast path decides, CEL decides the same', () => {
    for (const g of BUILTIN_CEL)
      fc.assert(
        fc.property(objectOf(g.kind, true), namespace, (object, ns) => {
          compareGroup(g, bindings(object, ns));
        }),
        { numRuns: 400, seed: 29 },
      );
  });

  it('when a value on the way is not plain JSON (a class instance, a Map, a Date), then the fast path leaves it to CEL', () => {
    class Meta {
      labels = { app: 'x' };
    }
    const cases: Array<[string, unknown]> = [
      ["object.metadata.labels.app == 'x'", { metadata: new Meta() }],
      ["has(object.metadata.labels) && object.metadata.labels.app == 'x'", { metadata: new Meta() }],
      ["'labels' in object.metadata", { metadata: new Meta() }],
      ["object.metadata.labels.app == 'x'", { metadata: { labels: new Map([['app', 'x']]) } }],
      ["'app' in object.metadata.labels", { metadata: { labels: new Date(0) } }],
      ["object.metadata.name == 'x'", Object.assign(new Meta(), { metadata: { name: 'x' } })],
    ];
    for (const [source, object] of cases)
      expect({ source, fast: viaFast(source, { object }) }).toEqual({ source, fast: undefined });
    // The same reads of plain data are decided.
    expect(
      viaFast("object.metadata.labels.app == 'x'", { object: { metadata: { labels: { app: 'x' } } } }),
    ).toEqual({
      value: true,
    });
  });

  it('when every check of an object shares one memo of its reads, then each decides as it does without one', () => {
    /** Each step's value, or 'undecided', for every group of the kind in catalog order; a memo shared by all. */
    const run = (kind: CelCheckGroup['kind'], base: Record<string, unknown>, memo?: Plain[]): unknown[] =>
      BUILTIN_CEL.filter((g) => g.kind === kind).flatMap((g) => {
        const variables: Record<string, unknown> = { namespaces: NAMESPACES };
        const vars: Record<string | symbol, unknown> = { ...base, variables };
        if (memo) vars[MEMO] = memo;
        const steps = [...g.variables, ...g.validations.map((v, i) => [`check${i}`, v.expression] as const)];
        return steps.map(([name, source]) => {
          const f = viaFast(source, vars);
          if (f) variables[name] = f.value;
          return f ? f.value : 'undecided';
        });
      });
    for (const kind of ['namespace', 'deployment', 'service'] as const)
      fc.assert(
        fc.property(objectOf(kind, true), namespace, (object, ns) => {
          const base = bindings(object, ns);
          const memo: Plain[] = [];
          expect(run(kind, base, memo)).toEqual(run(kind, base));
          // Read again from a memo already filled, as the second policy of the same object does.
          expect(run(kind, base, memo)).toEqual(run(kind, base));
        }),
        { numRuns: 300, seed: 53 },
      );
  });

  it('when random expressions of the subset run over random data, then every decided value is CEL’s', () => {
    const leaf = fc.constantFrom(
      'x',
      'x.a',
      'x.a.b',
      "x['a']",
      "x.a['b']",
      'y',
      "'a'",
      "'A'",
      "'b'",
      "'ÄMBIENT'",
      "'İnternal'",
      'true',
      'false',
      'null',
      '{}',
      "{'a': 'b'}",
      "['a', 'b']",
      '[x.a]',
      'has(x.a)',
      'has(x.a.b)',
    );
    const expr = fc.letrec<{ e: string }>((tie) => ({
      e: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        leaf,
        fc
          .tuple(tie('e'), fc.constantFrom('&&', '||', '==', '!=', 'in'), tie('e'))
          .map(([a, op, b]) => `(${a} ${op} ${b})`),
        tie('e').map((a) => `!(${a})`),
        tie('e').map((a) => `(${a}).lowerAscii()`),
        fc.tuple(tie('e'), tie('e'), tie('e')).map(([a, b, c]) => `((${a}) ? (${b}) : (${c}))`),
      ),
    })).e;
    const data = fc.dictionary(
      fc.constantFrom('a', 'b'),
      fc.oneof(oddValue, fc.dictionary(fc.constantFrom('a', 'b'), oddValue, { maxKeys: 2 })),
      { maxKeys: 2 },
    );
    let decided = 0;
    fc.assert(
      fc.property(expr, data, oddValue, (source, x, y) => {
        const vars = { x, y };
        const f = viaFast(source, vars);
        if (!f) return;
        decided += 1;
        const c = viaCel(source, { x: toCel(x), y: toCel(y) }, ['x', 'y']);
        expect({ source, x, y, outcome: c }).toEqual({ source, x, y, outcome: { value: f.value } });
      }),
      { numRuns: 3000, seed: 41 },
    );
    // The comparison means something only if the fast path decided a good share of them.
    expect(decided).toBeGreaterThan(600);
  });
});

/** Deployments whose pod templates hold the keys the pod-template checks read, with the values that decide them. */
function podObject(): fc.Arbitrary<Record<string, unknown>> {
  const keys = fc.constantFrom(
    'sidecar.istio.io/inject',
    'istio.io/rev',
    'istio.io/dataplane-mode',
    'prometheus.io/scrape',
    'prometheus.io/port',
    'prometheus.io/path',
  );
  const values = fc.constantFrom('true', 'false', 'ambient', 'none', '', '9091', '/metrics', 'canary');
  const map = fc.dictionary(keys, values, { maxKeys: 6 });
  const md = fc.record(
    { name: fc.constantFrom(...NAMES), labels: map, annotations: map },
    { requiredKeys: ['name'] },
  );
  const template = fc.record({ metadata: md }, { requiredKeys: [] });
  return fc.record(
    { metadata: md, spec: fc.record({ template }, { requiredKeys: [] }) },
    { requiredKeys: ['metadata'] },
  );
}

describe('the hand-written pod-template checks decide only as CEL does', () => {
  const groups = BUILTIN_CEL.filter((g) => g.kind === 'deployment' && Object.hasOwn(WRITTEN_FOR, g.policy));

  it('when a group has a hand-written reader, then it was written for the text builtin.ts holds now', () => {
    expect(groups.map((g) => g.policy).sort()).toEqual(Object.keys(WRITTEN_FOR).sort());
    for (const g of groups)
      // On a mismatch: check the function in src/rules/pod-template-fast.ts against the new text, then
      // put the new fingerprint in WRITTEN_FOR.
      expect({ policy: g.policy, fingerprint: WRITTEN_FOR[g.policy]?.fingerprint }).toEqual({
        policy: g.policy,
        fingerprint: checksFingerprint(g),
      });
    for (const g of groups) expect(handWritten(g)).toBe(WRITTEN_FOR[g.policy]?.fast);
  });

  it('when the text of a group changes, then its hand-written reader is set aside for the compiled path', () => {
    for (const g of groups) {
      const edited: CelCheckGroup = {
        ...g,
        validations: [...g.validations.slice(1), ...g.validations.slice(0, 1)],
      };
      expect({ policy: g.policy, fast: handWritten(edited) }).toEqual({ policy: g.policy, fast: undefined });
    }
  });

  it('when every combination of the values those checks read is tried, then each hand-written reader gives CEL’s verdict', () => {
    const values = [undefined, 'true', 'false', '', 'ambient', 'none', '9091'];
    /** Every assignment of `values` to the keys, as [where, key, value] lists. */
    const combos = (keys: ReadonlyArray<readonly ['labels' | 'annotations', string]>) =>
      keys.reduce<Array<Array<[string, string, string | undefined]>>>(
        (acc, [where, key]) =>
          acc.flatMap((c) =>
            values.map((v) => [...c, [where, key, v] as [string, string, string | undefined]]),
          ),
        [[]],
      );
    const deployment = (name: string, set: Array<[string, string, string | undefined]>) => {
      const md: Record<string, Record<string, string>> = { labels: {}, annotations: {} };
      for (const [where, key, v] of set) if (v !== undefined) (md[where] as Record<string, string>)[key] = v;
      return { metadata: { name }, spec: { template: { metadata: md } } };
    };
    const cases: Record<
      string,
      { keys: Array<['labels' | 'annotations', string]>; names: string[]; namespaces: string[] }
    > = {
      'no-injection-in-gloo-mesh': {
        keys: [
          ['labels', 'sidecar.istio.io/inject'],
          ['annotations', 'sidecar.istio.io/inject'],
          ['labels', 'istio.io/rev'],
          ['labels', 'istio.io/dataplane-mode'],
        ],
        names: ['web'],
        namespaces: ['gloo-mesh', 'apps'],
      },
      'mgmt-server-scrape-annotations': {
        keys: [
          ['annotations', 'prometheus.io/scrape'],
          ['annotations', 'prometheus.io/port'],
          ['annotations', 'prometheus.io/path'],
          ['annotations', 'sidecar.istio.io/inject'],
        ],
        names: ['gloo-mesh-mgmt-server', 'web'],
        namespaces: ['gloo-mesh'],
      },
    };
    cases['addons-namespace-injection'] = {
      ...(cases['no-injection-in-gloo-mesh'] as (typeof cases)[string]),
      namespaces: ['gloo-mesh-addons', 'apps'],
    };
    for (const g of groups) {
      const fast = handWritten(g);
      const c = cases[g.policy];
      if (!fast || !c) throw new Error(`no hand-written reader or no cases for ${g.policy}`);
      for (const set of combos(c.keys))
        for (const name of c.names)
          for (const ns of c.namespaces) {
            const object = deployment(name, set);
            const base = bindings(object, ns);
            const verdict = fast({ ...base, [MEMO]: [] }, { namespaces: NAMESPACES });
            expect({ policy: g.policy, ns, object, verdict }).toEqual({
              policy: g.policy,
              ns,
              object,
              verdict: celHolds(g, base),
            });
          }
    }
  });

  it('when objects well-formed or not are checked, then a hand-written reader says true or false only as CEL does, and decides every well-formed one', () => {
    for (const g of groups) {
      const fast = handWritten(g);
      if (!fast) throw new Error(`no hand-written reader for ${g.policy}`);
      const seen = { true: 0, false: 0, undecided: 0 };
      for (const odd of [false, true])
        fc.assert(
          fc.property(
            odd ? objectOf(g.kind, true) : fc.oneof(objectOf(g.kind, false), podObject()),
            namespace,
            (object, ns) => {
              const base = bindings(object, ns);
              let verdict: boolean | 'undecided';
              try {
                verdict = fast({ ...base, [MEMO]: [] }, { namespaces: NAMESPACES });
              } catch (err: unknown) {
                if (!(err instanceof NotDecided)) throw err;
                verdict = 'undecided';
              }
              seen[String(verdict) as keyof typeof seen] += 1;
              if (!odd) expect(verdict).not.toBe('undecided');
              if (verdict !== 'undecided')
                expect({ policy: g.policy, object, ns, verdict }).toEqual({
                  policy: g.policy,
                  object,
                  ns,
                  verdict: celHolds(g, base),
                });
            },
          ),
          { numRuns: 1000, seed: odd ? 71 : 67 },
        );
      // Only a comparison that met both answers means something.
      expect({ policy: g.policy, both: seen.true > 5 && seen.false > 5 }).toEqual({
        policy: g.policy,
        both: true,
      });
    }
  });
});
