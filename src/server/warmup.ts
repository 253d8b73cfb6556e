/**
 * Warms the offload worker up before the first large release arrives.
 *
 * Large releases are rare: a cluster sees a few a day, one per `helm upgrade` of a big chart. Each
 * used to meet cold code in a worker started on its arrival: the thread and its modules first
 * (about 150 ms), then a decoder V8 had not optimised yet. Through the API server, 9 of the first
 * twenty ~1 MiB releases after a start took more than 100 ms (docs/performance.md, issue 17).
 *
 * So the worker starts with the server (unless `serve --no-warm-up`) and decodes a made-up release
 * of the same shape, smaller, several times before it takes work. The release is built here from fixed text: nothing of a user's is read,
 * judged, logged or counted, and the engine never sees it (the worker has none).
 */
import { constants as zc, gzipSync } from 'node:zlib';
import { defaultConfig } from '../config/types.js';
import { RELEASE_SECRET_TYPE } from '../helm/release.js';
import { prepareBody } from './prepare.js';

/**
 * Decodes of the made-up release: enough for V8 to optimise the decoder's loops. Measured on the
 * bench's 1 MiB release, one at a time after start-up: the first took 200-216 ms with a cold worker,
 * 74-84 ms after this warm-up (later ones 30-60 ms either way).
 */
export const WARMUP_ROUNDS = 16;

/** Fixed text, long enough that gzip and base64 have real work, varied enough not to compress to nothing. */
function text(seed: number, bytes: number): string {
  const words = [
    'gloo',
    'mesh',
    'relay',
    'agent',
    'server',
    'istio',
    'value',
    'port',
    'name: x',
    '{{ .Values }}',
  ];
  const out: string[] = [];
  let n = 0;
  for (let i = 0; n < bytes; i++) {
    const w = `${words[(i * 7 + seed) % words.length] ?? ''}${(i * 2654435761 + seed) % 9973}`;
    out.push(w, i % 12 === 11 ? '\n' : i % 40 === 0 ? '"' : ' ');
    n += w.length + 1;
  }
  return out.join('');
}

function file(name: string, seed: number, bytes: number): { name: string; data: string } {
  return { name, data: Buffer.from(text(seed, bytes)).toString('base64') };
}

/**
 * A release shaped like Helm's record of gloo-platform (so the whole decoder runs, values included):
 * templates, files, default and user values, a manifest. Small (about 150 KB of JSON): it is the
 * number of decodes that optimises the code, and a large one left the worker's heap about 15 MiB
 * larger for good.
 */
function warmupRelease(): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (let i = 0; i < 200; i++)
    values[`key${i}`] = { enabled: i % 2 === 0, image: { tag: `v${i}` }, port: i, list: [`a${i}`, `b${i}`] };
  return {
    name: 'gloo-guard-warmup',
    info: {
      first_deployed: '2025-01-01T00:00:00Z',
      last_deployed: '2025-01-01T00:00:00Z',
      status: 'pending-install',
    },
    chart: {
      metadata: { name: 'gloo-platform', version: '2.7.0', apiVersion: 'v2' },
      lock: null,
      templates: Array.from({ length: 8 }, (_, i) => file(`templates/t${i}.yaml`, i, 4_000)),
      values,
      schema: Buffer.from('{}').toString('base64'),
      files: Array.from({ length: 2 }, (_, i) => file(`files/f${i}.txt`, 100 + i, 20_000)),
    },
    config: { common: { cluster: 'warmup' }, key1: { enabled: true } },
    manifest: text(7, 40_000),
    version: 1,
    namespace: 'default',
  };
}

/** The AdmissionReview the API server would send for the made-up release's Secret. */
export function warmupBody(): Buffer {
  const gz = gzipSync(Buffer.from(JSON.stringify(warmupRelease())), { level: zc.Z_BEST_COMPRESSION });
  const secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    type: RELEASE_SECRET_TYPE,
    metadata: {
      name: 'sh.helm.release.v1.gloo-guard-warmup.v1',
      namespace: 'default',
      labels: { name: 'gloo-guard-warmup', owner: 'helm', status: 'pending-install', version: '1' },
    },
    data: { release: Buffer.from(gz.toString('base64')).toString('base64') },
  };
  const kind = { group: '', version: 'v1', kind: 'Secret' };
  const resource = { group: '', version: 'v1', resource: 'secrets' };
  const request = {
    uid: '00000000-0000-0000-0000-000000000000',
    kind,
    resource,
    requestKind: kind,
    requestResource: resource,
    name: secret.metadata.name,
    namespace: 'default',
    operation: 'CREATE',
    userInfo: { username: 'gloo-guard-warmup' },
    object: secret,
    oldObject: null,
    dryRun: true,
  };
  return Buffer.from(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request }));
}

/** Decodes the made-up release `rounds` times; true when every decode read it as a release to judge. */
export function warmUp(rounds = WARMUP_ROUNDS): boolean {
  const body = warmupBody();
  const config = defaultConfig();
  let ok = true;
  for (let i = 0; i < rounds; i++) {
    const outcome = prepareBody(body, config);
    ok = ok && outcome.type === 'prepared' && 'subjects' in outcome.prepared;
  }
  return ok;
}
