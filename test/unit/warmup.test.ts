// The offload worker warms up on a made-up release before it takes work (src/server/warmup.ts).
// Warming up only helps if the made-up release takes the path a real one takes: read as a release
// of a judged chart, all the way to its values. These tests fail when it stops doing so (say, the
// decoder starts refusing it), which would leave the worker cold again without a word.
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/types.js';
import { prepareBody } from '../../src/server/prepare.js';
import { warmUp, warmupBody } from '../../src/server/warmup.js';

describe('the worker warm-up', () => {
  it('when the made-up release is read, then it is a release of gloo-platform with its values, as a real one', () => {
    const outcome = prepareBody(warmupBody(), defaultConfig());
    expect(outcome.type).toBe('prepared');
    if (outcome.type !== 'prepared' || !('subjects' in outcome.prepared)) throw new Error('not prepared');
    const [subject] = outcome.prepared.subjects;
    expect(subject?.kind).toBe('release');
    if (subject?.kind !== 'release') return;
    expect(subject.chart.name).toBe('gloo-platform');
    expect(subject.userValues).toEqual({ common: { cluster: 'warmup' }, key1: { enabled: true } });
    expect(subject.values).toMatchObject({ key199: { image: { tag: 'v199' } } });
  });

  it('when the worker warms up, then every decode reads the release', () => {
    expect(warmUp(3)).toBe(true);
  });

  it('when the made-up release is built, then it holds no input of anybody: the same bytes every time, and Helm’s encoding', () => {
    const a = warmupBody();
    expect(warmupBody().equals(a)).toBe(true);
    const review = JSON.parse(a.toString('utf8')) as {
      request: { operation: string; object: { type: string; data: { release: string } } };
    };
    expect(review.request.operation).toBe('CREATE');
    expect(review.request.object.type).toBe('helm.sh/release.v1');
    const inner = Buffer.from(review.request.object.data.release, 'base64').toString('latin1');
    const json = gunzipSync(Buffer.from(inner, 'base64'));
    expect(JSON.parse(json.toString('utf8'))).toMatchObject({ name: 'gloo-guard-warmup', version: 1 });
  });
});
