/**
 * The Kubernetes CEL libraries we add, against the examples of kubernetes.io/docs/reference/using-api/cel/
 * (the lists, quantity and semver tables) and the strings extension Kubernetes enables.
 */
import { describe, expect, it } from 'vitest';
import { compileCel } from '../../src/rules/cel.js';
import { fromCel } from '../../src/rules/values.js';

function run(expr: string): unknown {
  return fromCel(compileCel(expr).run({}).value);
}

describe('the Kubernetes CEL libraries, as Kubernetes documents them', () => {
  it.each([
    // lists
    ['[1, 2, 3].isSorted()', true],
    ['["b", "a"].isSorted()', false],
    ['[1, 2, 3].sum()', 6],
    ['[1.5, 2.5].sum()', 4],
    ['[1, 2, 3].min()', 1],
    ['[1, 2, 3].max()', 3],
    ['[1, 2, 2, 3].indexOf(2)', 1],
    ['[1, 2, 2, 3].lastIndexOf(2)', 2],
    ['[1, 2].indexOf(7)', -1],
    // quantity
    ['isQuantity("1.3G")', true],
    ['isQuantity("1.3Gi.1")', false],
    ['quantity("50k").isInteger()', true],
    ['quantity("50k").asInteger()', 50000],
    ['quantity("1Mi").asInteger()', 1048576],
    ['quantity("50.703k").asApproximateFloat()', 50703],
    ['quantity("-50k").sign()', -1],
    ['quantity("200M").compareTo(quantity("0.2G"))', 0],
    ['quantity("1Gi").isGreaterThan(quantity("1G"))', true],
    ['quantity("100m").isLessThan(quantity("1"))', true],
    ['quantity("50k").add(20) == quantity("50020")', true],
    ['quantity("50k").sub(quantity("20k")) == quantity("30k")', true],
    ['quantity("1e3") == quantity("1k")', true],
    // semver
    ['isSemver("1.0.0")', true],
    ['isSemver("v1.0")', false],
    ['isSemver("v1.0", true)', true],
    ['semver("1.2.3").major()', 1],
    ['semver("1.2.3").minor()', 2],
    ['semver("1.2.3").patch()', 3],
    ['semver("1.0.0").isLessThan(semver("1.1.0"))', true],
    ['semver("2.10.0").isGreaterThan(semver("2.9.5"))', true],
    ['semver("1.0.0-alpha").isLessThan(semver("1.0.0"))', true],
    ['semver("1.0.0-alpha.1").isLessThan(semver("1.0.0-alpha.beta"))', true],
    ['semver("1.0.0+build.1").compareTo(semver("1.0.0"))', 0],
    ['semver("2.0.0").compareTo(semver("1.0.0"))', 1],
    // strings extension and the standard library
    ['"gloo-mesh".indexOf("mesh")', 5],
    ['"a,b,c".split(",").size()', 3],
    ['"  x ".trim()', 'x'],
    ['"ABC".lowerAscii()', 'abc'],
    ['"relay.internal.example.com".endsWith(".internal.example.com")', true],
    ['"gcr.io/gloo-mesh/x".matches("^gcr\\\\.io/")', true],
    ['["a", "b"].join("-")', 'a-b'],
  ])('%s gives %j', (expr, want) => {
    expect(run(expr)).toEqual(want);
  });

  it.each([
    ['quantity("1.5").asInteger()', /not a whole number/],
    ['quantity("9999999999999999999999999999999999999G").asInteger()', /overflows int/],
    ['quantity("ten")', /not a valid Kubernetes quantity/],
    ['semver("v1.0")', /not a valid semantic version/],
    ['[].min()', /empty list/],
  ])('%s is an error (%s)', (expr, message) => {
    expect(() => run(expr)).toThrow(message);
  });
});
