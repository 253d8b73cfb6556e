import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeReleaseSecretData, releaseSecret, ReleaseDecodeError } from '../../src/helm/release.js';

const REL = {
  name: 'mgmt',
  namespace: 'gloo-mesh',
  version: 3,
  info: { status: 'pending-upgrade', description: 'Upgrade underway' },
  chart: {
    metadata: { name: 'gloo-platform', version: '2.4.3', appVersion: '2.4.3' },
    values: { a: 1 },
    templates: [],
  },
  config: { common: { insecure: true } },
  manifest: '---\nkind: Deployment\n',
};

const wrap = (helmPayload: Buffer | string): string =>
  Buffer.from(Buffer.from(helmPayload).toString('base64')).toString('base64');

function decodeError(data: string, max = 1 << 20): string {
  try {
    decodeReleaseSecretData(data, max);
  } catch (err: unknown) {
    expect(err).toBeInstanceOf(ReleaseDecodeError);
    return (err as Error).message;
  }
  throw new Error('expected a decode error');
}

describe('Helm release Secrets', () => {
  it('when a release is encoded as Helm does, then decoding gives its chart, values, config and status', () => {
    const s = releaseSecret(REL);
    expect(s.metadata).toMatchObject({
      name: 'sh.helm.release.v1.mgmt.v3',
      labels: { owner: 'helm', status: 'pending-upgrade', version: '3' },
    });
    expect(s.type).toBe('helm.sh/release.v1');
    expect(decodeReleaseSecretData(s.data.release, 1 << 20)).toEqual({
      name: 'mgmt',
      namespace: 'gloo-mesh',
      version: 3,
      info: { status: 'pending-upgrade' },
      chart: {
        metadata: { name: 'gloo-platform', version: '2.4.3', appVersion: '2.4.3' },
        values: { a: 1 },
      },
      config: { common: { insecure: true } },
    });
  });

  it('when the payload is plain JSON without the gzip magic (old Helm), then it is read as JSON', () => {
    const plain = Buffer.from(Buffer.from(JSON.stringify(REL)).toString('base64')).toString('base64');
    expect(decodeReleaseSecretData(plain, 1 << 20).chart.metadata.name).toBe('gloo-platform');
  });

  it.each([
    ['not base64 at all', 'data.release is not valid base64'],
    [Buffer.from('###').toString('base64'), 'release payload is not valid base64'],
    [
      wrap(Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08]), Buffer.from('garbage-garbage')])),
      'release is not valid gzip',
    ],
    [wrap(gzipSync('{"name": ')), 'release is not valid JSON after gunzip'],
    [wrap(Buffer.from('{"name": ')), 'release is neither gzip nor valid JSON'],
    [wrap(gzipSync('[1,2]')), 'release JSON is not an object'],
    [wrap(gzipSync('{"name":"x","chart":{}}')), 'release has no chart.metadata.name'],
  ])('when data.release is %j, then the error says %j', (data, message) => {
    expect(decodeError(data)).toContain(message);
  });

  it('when the gzip expands past the limit, then decoding stops at the limit with a clear error', () => {
    const bomb = wrap(gzipSync(Buffer.alloc(8 << 20)));
    const before = process.memoryUsage().arrayBuffers;
    expect(decodeError(bomb, 1 << 20)).toBe(
      'release expands past the limit of 1048576 bytes (limits.maxReleaseBytes); refusing to decompress further',
    );
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(4 << 20);
  });

  it('when a bomb shows itself in its first kilobytes, then it is refused for what it is, before the rest is inflated', () => {
    // The trailers are forged to say 0 bytes, so only inflating can find the bombs; inflated whole,
    // both would reach the 8 MiB limit first and be refused for their size.
    const forged = (gz: Buffer): Buffer => (gz.writeUInt32LE(0, gz.length - 4), gz);
    const deep = forged(
      gzipSync(Buffer.concat([Buffer.from('{"name":"r","x":'), Buffer.alloc(16 << 20, '[')])),
    );
    expect(decodeError(wrap(deep), 8 << 20)).toBe(
      'release is not valid JSON after gunzip (nested more than 10000 levels deep)',
    );
    const zeros = forged(gzipSync(Buffer.alloc(16 << 20)));
    expect(decodeError(wrap(zeros), 8 << 20)).toBe(
      'release is not valid JSON after gunzip (an unexpected character at byte 0)',
    );
    const list = forged(gzipSync(Buffer.concat([Buffer.from('  ['), Buffer.alloc(16 << 20, '1')])));
    expect(decodeError(wrap(list), 8 << 20)).toBe('release JSON is not an object');
  });

  it('when the gzip trailer honestly declares more than the limit, then it is refused without inflating', () => {
    const bomb = wrap(gzipSync(Buffer.alloc(64 << 20)));
    const before = process.memoryUsage().arrayBuffers;
    expect(decodeError(bomb, 32 << 20)).toMatch(/^release expands past the limit of 33554432 bytes/);
    // Inflating up to the limit would have allocated 32 MiB or more.
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(8 << 20);
  });
  it('when the gzip has several members (the trailer gives the size of the last one only), then the release reads the same', () => {
    // More than one inflating step (1 MiB) and more than the small-gzip path (16 KiB of gzip).
    const json = Buffer.from(JSON.stringify({ ...REL, manifest: randomBytes(700_000).toString('hex') }));
    const expected = decodeReleaseSecretData(wrap(gzipSync(json)), 8 << 20);
    expect(expected.config).toEqual(REL.config);
    // Go's gzip reader and zlib both read every member; the first output buffer is sized for the last.
    for (const cut of [json.length - 10, Math.floor(json.length / 2), 100]) {
      const members = Buffer.concat([gzipSync(json.subarray(0, cut)), gzipSync(json.subarray(cut))]);
      expect(decodeReleaseSecretData(wrap(members), 8 << 20)).toEqual(expected);
    }
  });

  it('when a release has more than 10,000 brackets inside strings, then it reads, and deep nesting after them is still refused early', () => {
    const brackets = '[{'.repeat(12_000);
    const json = Buffer.from(JSON.stringify({ ...REL, manifest: `${brackets}${'x'.repeat(40_000)}` }));
    expect(decodeReleaseSecretData(wrap(gzipSync(json)), 8 << 20).config).toEqual(REL.config);
    const deep = gzipSync(
      Buffer.concat([Buffer.from(`{"name":"r","manifest":"${brackets}","x":`), Buffer.alloc(16 << 20, '[')]),
    );
    deep.writeUInt32LE(0, deep.length - 4);
    expect(decodeError(wrap(deep), 8 << 20)).toBe(
      'release is not valid JSON after gunzip (nested more than 10000 levels deep)',
    );
  });
});
