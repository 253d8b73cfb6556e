import { describe, expect, it } from 'vitest';
import {
  CelBudgetError,
  CelCompileError,
  CelEvalError,
  compileCel,
  DEFAULT_COST_BUDGET,
} from '../../src/rules/cel.js';
import { toCel } from '../../src/rules/values.js';

const big = toCel({ items: Array.from({ length: 2000 }, (_, i) => i) });

describe('compiling a rule expression', () => {
  it.each([
    ['values.a == 1 &&', 1, /expecting/],
    ['\n\n  values.a &&& x', 3, /expecting/],
    ['foo.bar', 1, /undeclared reference to 'foo'/],
    ['values.x.nope()', 1, /no function or method named 'nope'/],
    ['values.items.all(i, j > 0)', 1, /undeclared reference to 'j'/],
    ['google.protobuf.Duration{seconds: 1}', 1, /message types are not available/],
    ['   ', 1, /empty/],
  ])('when the expression is %j, then it is refused at line %i', (src, line, message) => {
    const err = (() => {
      try {
        compileCel(src);
      } catch (e: unknown) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(CelCompileError);
    expect((err as CelCompileError).line).toBe(line);
    expect((err as CelCompileError).message).toMatch(message);
  });

  it('when the variables are whole JSON numbers, then they are CEL ints, as Kubernetes hands them', () => {
    const p = compileCel('object.spec.replicas >= 2 && type(object.spec.replicas) == int');
    expect(p.run({ object: toCel({ spec: { replicas: 3 } }) }).value).toBe(true);
  });
});

describe('the cost budget', () => {
  it('when a rule loops over a large list inside a loop, then it stops with an error at the budget', () => {
    const p = compileCel('values.items.all(x, values.items.all(y, x + y >= 0))');
    expect(() => p.run({ values: big })).toThrow(CelBudgetError);
    expect(() => p.run({ values: big })).toThrow(`cost budget of ${DEFAULT_COST_BUDGET} exceeded`);
  });

  it('when the same loop fits a larger budget, then it runs to the end and reports what it spent', () => {
    const p = compileCel('values.items.all(x, x >= 0)');
    const { value, cost } = p.run({ values: big }, DEFAULT_COST_BUDGET);
    expect(value).toBe(true);
    // Each of the 2000 steps charges the step itself, the comparison and the && of all().
    expect(cost).toBeGreaterThanOrEqual(2000);
    expect(() => p.run({ values: big }, cost - 1)).toThrow(/cost budget/);
  });

  it('when a rule builds large strings, then their size is charged too', () => {
    // 2000 steps of three calls fit the budget; 2000 joins of a 22 000-character string do not.
    const names = toCel({ names: Array.from({ length: 2000 }, () => 'abcdefghij') });
    expect(compileCel('values.names.map(x, x + ",").size() > 0').run({ values: names }).value).toBe(true);
    const p = compileCel('values.names.map(x, values.names.join(",")).size() > 0');
    expect(() => p.run({ values: names })).toThrow(/cost budget/);
  });

  it('when an expression fails at run time, then it is an error, not a value', () => {
    expect(() => compileCel('values.missing.field == 1').run({ values: toCel({}) })).toThrow(CelEvalError);
  });
});
