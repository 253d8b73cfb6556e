import { parseDocument } from 'yaml';
import { describe, expect, it } from 'vitest';
import {
  conditionEnabled,
  goString,
  parseGoBool,
  readFlag,
  templateTruthy,
} from '../../src/engine/helm-values.js';
import { helmYamlValue, resolvePlain } from '../../src/engine/helm-yaml.js';

describe('Go template truthiness', () => {
  it.each([
    [false, false],
    [0, false],
    [0.0, false],
    ['', false],
    [null, false],
    [undefined, false],
    [[], false],
    [{}, false],
    [true, true],
    ['false', true],
    ['0', true],
    [1, true],
    [-1, true],
    [0.5, true],
    [[false], true],
    [{ a: false }, true],
  ])('when the value is %j, then {{ if }} reads %s', (v, want) => {
    expect(templateTruthy(v)).toBe(want);
  });
});

describe("Go's strconv.ParseBool of a value printed into a flag", () => {
  it.each([
    ['1', true],
    ['t', true],
    ['T', true],
    ['TRUE', true],
    ['true', true],
    ['True', true],
    ['0', false],
    ['f', false],
    ['F', false],
    ['FALSE', false],
    ['false', false],
    ['False', false],
    [1, true],
    [1.0, true],
    [0, false],
    [true, true],
    [false, false],
    ['tRue', undefined],
    ['yes', undefined],
    ['on', undefined],
    [2, undefined],
    [0.5, undefined],
    [[true], undefined],
    [null, undefined],
    ['', undefined],
  ])('when the value is %j, then ParseBool gives %s', (v, want) => {
    expect(parseGoBool(v)).toBe(want);
  });

  it('when numbers are printed, then they read as Go prints float64 with %v', () => {
    expect([1, 1e20, 1e21, 1e-5, 0.0001, -0, 2.5].map(goString)).toEqual([
      '1',
      '100000000000000000000',
      '1e+21',
      '1e-05',
      '0.0001',
      '-0',
      '2.5',
    ]);
  });
});

describe("Helm's subchart condition", () => {
  it.each([
    [false, false],
    [true, true],
    ['false', true],
    [0, true],
    [null, true],
    [undefined, true],
  ])('when the condition value is %j, then the subchart is enabled: %s', (v, want) => {
    expect(conditionEnabled(v)).toBe(want);
  });
});

describe('readFlag: a switch read the way the chart consumes it', () => {
  it('when the readings of a template and a flag parser disagree and the use is unknown, then it is ambiguous', () => {
    for (const v of ['false', 'yes', [true], 0.5, 'off']) {
      expect(readFlag(v, 'unknown').ambiguous, JSON.stringify(v)).toBe(true);
    }
  });

  it('when they agree, then the reading is plain and says why', () => {
    expect(readFlag(1, 'unknown')).toEqual({ on: true, ambiguous: false, reading: '1 reads as true' });
    expect(readFlag('True', 'unknown')).toMatchObject({ on: true, ambiguous: false });
    expect(readFlag(0, 'unknown')).toMatchObject({ on: false, ambiguous: false });
    expect(readFlag(true, 'unknown')).toEqual({ on: true, ambiguous: false, reading: '' });
    expect(readFlag(undefined, 'unknown')).toEqual({ on: false, ambiguous: false, reading: '' });
    expect(readFlag(undefined, 'condition')).toEqual({ on: false, ambiguous: false, reading: '' });
  });

  it('when the chart uses the key as a condition, then only false disables, and nothing is ambiguous', () => {
    expect(readFlag('false', 'condition')).toMatchObject({ on: true, ambiguous: false });
    expect(readFlag(null, 'condition').reading).toContain('Helm ignores the condition');
    expect(readFlag(false, 'condition')).toEqual({ on: false, ambiguous: false, reading: '' });
  });

  it('when the chart uses it in a template or as a flag, then that reading is followed', () => {
    expect(readFlag('false', 'template')).toMatchObject({ on: true, ambiguous: false });
    expect(readFlag('false', 'flag')).toMatchObject({ on: false, ambiguous: false });
    expect(readFlag('yes', 'flag')).toMatchObject({ ambiguous: true });
  });
});

const read = (text: string): unknown =>
  helmYamlValue(parseDocument(text, { version: '1.1', merge: false, uniqueKeys: false }));

describe('values YAML read as Helm reads it (go-yaml v2 through sigs.k8s.io/yaml)', () => {
  it('when YAML 1.1 booleans appear in any case form go-yaml v2 knows, then they are booleans', () => {
    for (const t of ['y', 'Y', 'yes', 'Yes', 'YES', 'on', 'On', 'ON', 'true', 'True', 'TRUE']) {
      expect(resolvePlain(t), t).toBe(true);
    }
    for (const f of ['n', 'N', 'no', 'No', 'NO', 'off', 'Off', 'OFF', 'false', 'False', 'FALSE']) {
      expect(resolvePlain(f), f).toBe(false);
    }
    for (const s of ['yEs', 'oN', 'tRue', 'nO']) expect(resolvePlain(s), s).toBe(s);
  });

  it("when numbers use go's base prefixes and underscores, then they read as Go's ParseInt reads them", () => {
    expect(read('a: 0o17\nb: 017\nc: 0x1F\nd: 0b101\ne: 1_000\nf: 08\ng: 1e3\nh: .5')).toEqual({
      a: 15,
      b: 15,
      c: 31,
      d: 5,
      e: 1000,
      f: 8,
      g: 1000,
      h: 0.5,
    });
  });

  it('when a value looks like a timestamp or a sexagesimal number, then it stays a string', () => {
    expect(read('a: 2001-12-14\nb: 1:20\nc: "yes"\nd: ~\ne:')).toEqual({
      a: '2001-12-14',
      b: '1:20',
      c: 'yes',
      d: null,
      e: null,
    });
  });

  it('when a key is a YAML 1.1 boolean, then it becomes the JSON key "true" as sigs.k8s.io/yaml writes it', () => {
    expect(read('y: 1\non: 2')).toEqual({ true: 2 });
  });

  it('when a << merge key appears, then it applies at its place: later keys override it, it overrides earlier ones', () => {
    expect(read('base: &b {insecure: true, x: 1}\nc:\n  <<: *b\n  insecure: false')).toMatchObject({
      c: { insecure: false, x: 1 },
    });
    expect(read('base: &b {insecure: true}\nc:\n  insecure: false\n  <<: *b')).toMatchObject({
      c: { insecure: true },
    });
    expect(read('c:\n  <<: [{x: 1}, {x: 2, z: 3}]')).toEqual({ c: { x: 1, z: 3 } });
    expect(read("c: {'<<': {x: 1}}")).toEqual({ c: { '<<': { x: 1 } } });
  });

  it('when a key repeats, then the last one wins, as go-yaml v2 fills a map', () => {
    expect(read('common:\n  insecure: false\n  insecure: true')).toEqual({ common: { insecure: true } });
  });

  it('when a document is something Helm refuses, then it is an error that quotes no value', () => {
    expect(() => read('a: .inf')).toThrow(/cannot become JSON/);
    expect(() => read('a: &x [*x]')).toThrow(/contains itself/);
    expect(() => read('a: !!int secret-value')).toThrow(/tagged !!int/);
    expect(() => read('a: !!int secret-value')).not.toThrow(/secret-value/);
    expect(() => read('c: {<<: 3}')).toThrow(/merge key needs a map/);
  });

  it('when aliases expand past the budget, then it is refused as a bomb', () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 8; i++)
      bomb.push(
        `${'bcdefgh'[i - 1]}: &${'bcdefgh'[i - 1]} [${Array(10)
          .fill(`*${'abcdefg'[i - 1]}`)
          .join(', ')}]`,
      );
    expect(() => read(bomb.join('\n'))).toThrow(/too many aliases/);
  });
});
