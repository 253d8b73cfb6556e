import fc from 'fast-check';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeReleaseSecretData, ReleaseDecodeError } from '../../src/helm/release.js';
import { readReleaseFields, ReleaseJsonError, valueEnd } from '../../src/helm/release-json.js';

const read = (text: string): unknown => readReleaseFields(Buffer.from(text));

/** What JSON.parse gives for the fields gloo-guard reads, when every key is spelled once and exactly. */
function pickParsed(text: string): Record<string, unknown> {
  const all = JSON.parse(text) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of ['name', 'namespace', 'version', 'info', 'config']) if (k in all) out[k] = all[k];
  const chart = all.chart as Record<string, unknown> | undefined;
  if (typeof chart === 'object' && chart !== null && !Array.isArray(chart)) {
    out.chart = Object.fromEntries(
      ['metadata', 'values'].filter((k) => k in chart).map((k) => [k, chart[k]]),
    );
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
            files: anyJson,
          },
          { requiredKeys: [] },
        ),
        config: fc.dictionary(fc.string(), anyJson),
        manifest: fc.string({ unit: 'binary' }),
        hooks: anyJson,
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

  it('when strings hold escaped quotes, backslashes and braces, then skipping them keeps the reader in step', () => {
    const text = JSON.stringify({
      manifest: 'a "quoted" \\ } ] { [ \\"',
      chart: { templates: [{ data: '\\\\"}' }], metadata: { name: 'gloo-platform' } },
      config: { k: 'v' },
    });
    expect(read(text)).toEqual({ chart: { metadata: { name: 'gloo-platform' } }, config: { k: 'v' } });
  });

  it('when a key differs only in case, then it is read as Go reads it into Helm’s struct', () => {
    expect(read('{"Config":{"insecure":true},"CHART":{"Metadata":{"name":"x"}}}')).toEqual({
      config: { insecure: true },
      chart: { metadata: { name: 'x' } },
    });
    expect(read('{"\\u0063onfig":{"a":1}}')).toEqual({ config: { a: 1 } });
  });

  it('when a key is repeated, then objects merge as Go decodes into the same map and scalars are replaced', () => {
    expect(read('{"config":{"insecure":true},"config":{"other":1},"name":"a","name":"b"}')).toEqual({
      config: { insecure: true, other: 1 },
      name: 'b',
    });
    expect(read('{"config":{"insecure":true},"config":null}')).toEqual({ config: null });
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

  it('when a skipped value nests 100,000 levels deep, then it is skipped without recursion', () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    expect(read(`{"hooks":${deep},"name":"n"}`)).toEqual({ name: 'n' });
    expect(valueEnd(Buffer.from(deep), 0)).toBe(deep.length);
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
