import fc from 'fast-check';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeReleaseSecretData, ReleaseDecodeError } from '../../src/helm/release.js';
import { checkValid, readReleaseFields, ReleaseJsonError, valueEnd } from '../../src/helm/release-json.js';

const read = (text: string): unknown => readReleaseFields(Buffer.from(text));

/** Helm's structs with nothing set: what Go holds for a field the JSON does not name. */
const EMPTY = { name: '', namespace: '', version: 0, info: null, chart: null, config: null };

/** What Go's structs hold for the fields gloo-guard reads, when every key is spelled once and exactly. */
function pickParsed(text: string): Record<string, unknown> {
  type Obj = Record<string, unknown>;
  const all = JSON.parse(text) as Obj;
  const out: Record<string, unknown> = { ...EMPTY };
  for (const k of ['name', 'namespace', 'version', 'config']) if (k in all) out[k] = all[k];
  if ('info' in all) out.info = { status: ((all.info as Obj).status as string | undefined) ?? '' };
  const chart = all.chart as Obj | undefined;
  if (chart !== undefined) {
    const md = chart.metadata as Obj | undefined;
    out.chart = {
      values: chart.values ?? null,
      metadata: md
        ? { name: md.name ?? '', version: md.version ?? '', appVersion: '', dependencies: null }
        : null,
    };
  }
  return out;
}

const wrap = (json: string): string => Buffer.from(gzipSync(json).toString('base64')).toString('base64');

describe('reading only the fields of a release that gloo-guard needs', () => {
  it('when the JSON is any release-shaped object, then the fields equal what JSON.parse gives', () => {
    const anyJson = fc.jsonValue({ maxDepth: 4 });
    const release = fc.record(
      {
        name: fc.string(),
        info: fc.record({ status: fc.string(), notes: fc.string() }),
        chart: fc.record(
          {
            metadata: fc.record({ name: fc.string(), version: fc.string() }),
            templates: fc.array(fc.record({ name: fc.string(), data: fc.base64String() })),
            values: fc.dictionary(fc.string(), anyJson),
            // Helm decodes files and templates too (test/helm-diff): only their own types are read.
            files: fc.array(fc.record({ name: fc.string(), data: fc.base64String() })),
          },
          { requiredKeys: [] },
        ),
        config: fc.dictionary(fc.string(), anyJson),
        manifest: fc.string({ unit: 'binary' }),
        hooks: fc.array(fc.record({ name: fc.string(), weight: fc.integer() })),
        version: fc.integer(),
        namespace: fc.string(),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(release, fc.boolean(), (r, pretty) => {
        const text = JSON.stringify(r, null, pretty ? 2 : undefined);
        expect(read(text)).toEqual(pickParsed(text));
      }),
      { seed: 20261128, numRuns: 300 },
    );
  });

  it('when strings look like huge numbers, then they are read as strings, and a real overflow beside them is still refused', () => {
    // Random base64 in values matches an exponent of 100 or more ("5e123") often; only numbers count.
    const config = { a: '5e123', b: 'x\\"1E+999', c: ['7e777', 1e300], d: { e: '9'.repeat(400) } };
    const text = JSON.stringify({ name: 'r', config });
    expect(read(text)).toEqual({ ...EMPTY, name: 'r', config });
    for (const huge of ['1e400', '-2E+309', '9'.repeat(400)]) {
      const overflow = text.replace('"d":', `"n":${huge},"d":`);
      expect(() => read(overflow)).toThrow('a number does not fit in a float64');
    }
    // 1e300 fits: an exponent of 100 or more is only a reason to look.
    expect(read(text.replace('"d":', '"n":1e300,"d":'))).toMatchObject({ config: { n: 1e300 } });
  });

  it('when strings hold escaped quotes, backslashes and braces, then skipping them keeps the reader in step', () => {
    const text = JSON.stringify({
      manifest: 'a "quoted" \\ } ] { [ \\"',
      chart: { templates: [{ name: '\\\\"}', data: 'eyJ9' }], metadata: { name: 'gloo-platform' } },
      config: { k: 'v' },
    });
    expect(read(text)).toMatchObject({ chart: { metadata: { name: 'gloo-platform' } }, config: { k: 'v' } });
  });

  it('when a key differs only in case, then it is read as Go reads it into Helm’s struct', () => {
    expect(read('{"Config":{"insecure":true},"CHART":{"Metadata":{"name":"x"}}}')).toMatchObject({
      config: { insecure: true },
      chart: { metadata: { name: 'x' } },
    });
    expect(read('{"\\u0063onfig":{"a":1}}')).toMatchObject({ config: { a: 1 } });
  });

  it('when a key is repeated, then objects merge as Go decodes into the same map and scalars are replaced', () => {
    expect(read('{"config":{"insecure":true},"config":{"other":1},"name":"a","name":"b"}')).toMatchObject({
      config: { insecure: true, other: 1 },
      name: 'b',
    });
    expect(read('{"config":{"insecure":true},"config":null}')).toMatchObject({ config: null });
  });

  it.each([
    ['truncated inside a skipped string', '{"manifest":"abc'],
    ['truncated inside a skipped object', '{"hooks":[{"a":1}'],
    ['brackets that do not pair', '{"hooks":[1,2}]}'],
    ['bytes after the object', '{"name":"a"} trailing'],
    ['a missing colon', '{"name" "a"}'],
    ['a missing comma', '{"name":"a" "config":{}}'],
    ['a read value that is not JSON', '{"config":{"a":tru}}'],
    ['nothing at all', ''],
  ])('when the JSON has %s, then it is an error', (_what, text) => {
    expect(() => read(text)).toThrow(ReleaseJsonError);
  });

  it('when a skipped value nests 9,999 levels deep, then it is skipped without recursion; 100,000 is refused as Go refuses it', () => {
    const deep = (n: number): string => `${'['.repeat(n)}${']'.repeat(n)}`;
    expect(read(`{"x":${deep(9_999)},"name":"n"}`)).toMatchObject({ name: 'n' });
    expect(() => read(`{"x":${deep(100_000)},"name":"n"}`)).toThrow(/nested more than 10000 levels deep/);
    expect(valueEnd(Buffer.from(deep(100_000)), 0)).toBe(deep(100_000).length);
  });
});

describe('validating release JSON natively, as Go’s scanner does', () => {
  /** Bytes that matter to JSON's grammar, plus a control character, DEL, a UTF-8 lead and a lone continuation byte. */
  const BYTES = [...'{}[]",:\\/ \t\r\nu0123456789abefEnlrstx.+-'].map((c) => c.charCodeAt(0));
  const edit = fc.record({
    at: fc.nat(),
    op: fc.constantFrom('insert', 'delete', 'replace'),
    byte: fc.constantFrom(...BYTES, 0x00, 0x1f, 0x7f, 0xc3, 0x80, 0xff),
  });
  const goAccepts = (b: Buffer): boolean => {
    try {
      checkValid(b);
      return true;
    } catch {
      return false;
    }
  };
  const nativeAccepts = (b: Buffer): boolean => {
    try {
      JSON.parse(b.toString('latin1'));
      return true;
    } catch {
      return false;
    }
  };

  it('when JSON text is damaged byte by byte, then JSON.parse of its latin1 text accepts exactly what the Go-exact scan accepts', () => {
    const damaged = fc
      .tuple(fc.jsonValue({ maxDepth: 3 }), fc.array(edit, { minLength: 1, maxLength: 3 }))
      .map(([v, edits]) => {
        const b = [...Buffer.from(JSON.stringify(v) ?? 'null')];
        for (const e of edits) {
          const at = b.length === 0 ? 0 : e.at % b.length;
          if (e.op === 'insert') b.splice(at, 0, e.byte);
          else if (e.op === 'delete') b.splice(at, 1);
          else b[at] = e.byte;
        }
        return Buffer.from(b);
      });
    let accepted = 0;
    fc.assert(
      fc.property(damaged, (b) => {
        const go = goAccepts(b);
        if (go) accepted++;
        expect(nativeAccepts(b)).toBe(go);
      }),
      { seed: 20261130, numRuns: 20_000 },
    );
    // Both outcomes are exercised, not only refusals.
    expect(accepted).toBeGreaterThan(1000);
  });

  it('when a release is read, then a syntax error is named with its byte, as the exact scan words it', () => {
    expect(() => read('{"name":"a","config":{"x":1,}}')).toThrow('expected a key at byte 28');
  });
});

describe('decoding release Secrets through the selective reader', () => {
  const release = {
    name: 'mgmt',
    info: { status: 'pending-install' },
    chart: { metadata: { name: 'gloo-platform', version: '2.5.4' }, values: { a: 1 } },
    config: { common: { insecure: true } },
    manifest: 'x'.repeat(10_000),
    version: 1,
    namespace: 'gloo-mesh',
  };

  it('when base64 is wrapped in newlines (as Go may write it), then it still decodes', () => {
    const wrapped = wrap(JSON.stringify(release)).replace(/.{76}/g, '$&\n');
    expect(decodeReleaseSecretData(wrapped, 1 << 20).config).toEqual({ common: { insecure: true } });
  });

  it.each([
    ['a character outside the alphabet', (s: string) => `${s.slice(0, 8)}*${s.slice(9)}`],
    ['the URL-safe alphabet', (s: string) => `${s.slice(0, 8)}-${s.slice(9)}`],
    ['padding in the middle', (s: string) => `${s.slice(0, 8)}==${s.slice(10)}`],
    ['a length that is not a multiple of 4', (s: string) => s.slice(0, -1)],
  ])('when data.release has %s, then it is refused as not valid base64', (_what, damage) => {
    const data = damage(wrap(JSON.stringify(release)));
    expect(() => decodeReleaseSecretData(data, 1 << 20)).toThrow(ReleaseDecodeError);
    expect(() => decodeReleaseSecretData(data, 1 << 20)).toThrow(/not valid base64/);
  });

  it('when the config is spelled "Config", then the webhook judges the values Helm would install', () => {
    const text = JSON.stringify(release).replace('"config"', '"Config"');
    expect(decodeReleaseSecretData(wrap(text), 1 << 20).config).toEqual({ common: { insecure: true } });
  });
});
