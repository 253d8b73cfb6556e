/**
 * `npx tsx bench/decode-stages.ts`: times each stage of decoding a release Secret on the server core,
 * for gloo-guard's decoder and the limit's cheapest path, and writes bench/results/decode-stages.md.
 * Explains the large-release numbers of the load benchmark.
 */
import { isDeepStrictEqual } from 'node:util';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, constants as zc } from 'node:zlib';
import { defaultConfig } from '../src/config/types.js';
import { judge } from '../test/fixtures/judge.js';
import { releaseFromHelm } from '../src/engine/subjects.js';
import { decodeReleaseSecretData } from '../src/helm/release.js';
import { readReleaseFields } from '../src/helm/release-json.js';
import { ROOT } from './build.js';
import { pinSelf, SERVER_CORE } from './processes.js';
import { loadReviews } from './review-cache.js';
import { round } from './stats.js';

const MAX = defaultConfig().limits.maxReleaseBytes;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Where the value of `config` ends in release JSON (what a decoder that stops early would inflate). */
function configEnd(json: Buffer): number {
  const key = json.indexOf('"manifest"');
  return key < 0 ? json.length : key;
}

/** Median time of `fn` over `runs` runs after a warm-up, in ms. */
function time(fn: () => unknown, runs: number): number {
  for (let i = 0; i < 5; i++) fn();
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const s = performance.now();
    fn();
    t.push(performance.now() - s);
  }
  t.sort((a, b) => a - b);
  return round(t[Math.floor(t.length / 2)] ?? Number.NaN, 2);
}

/** The shortest gzip prefix that inflates past `bytes` (what a streaming decoder that stops early reads). */
function prefixFor(gz: Buffer, bytes: number): Buffer {
  let lo = 0;
  let hi = gz.length;
  while (hi - lo > 1024) {
    const mid = Math.floor((lo + hi) / 2);
    const out = gunzipSync(gz.subarray(0, mid), { finishFlush: zc.Z_SYNC_FLUSH });
    if (out.length >= bytes) hi = mid;
    else lo = mid;
  }
  return gz.subarray(0, hi);
}

function stages(name: string, body: Buffer, runs: number): string[] {
  const review = JSON.parse(body.toString('utf8')) as { request: { object: { data: { release: string } } } };
  const data = review.request.object.data.release;
  const helm = Buffer.from(data, 'base64').toString('latin1');
  const gz = Buffer.from(helm, 'base64');
  const json = gunzipSync(gz);
  const text = json.toString('utf8');
  const full = JSON.parse(text) as { chart: { metadata: unknown; values: unknown }; config: unknown };
  const selected = decodeReleaseSecretData(data, MAX);
  if (
    !isDeepStrictEqual(selected.chart.values, full.chart.values) ||
    !isDeepStrictEqual(selected.config, full.config)
  ) {
    throw new Error('the decoder disagrees with JSON.parse');
  }
  const cfgEnd = configEnd(json);
  const prefix = prefixFor(gz, cfgEnd);
  const rel = decodeReleaseSecretData(data, MAX);
  const subject = releaseFromHelm(rel, { location: 'bench' });
  const rows: Array<[string, number]> = [
    ['AdmissionReview JSON.parse', time(() => JSON.parse(body.toString('utf8')), runs)],
    ['gloo-guard: decodeReleaseSecretData, total', time(() => decodeReleaseSecretData(data, MAX), runs)],
    [
      '  both base64 layers (checked by decoded length)',
      time(() => Buffer.from(Buffer.from(data, 'base64').toString('latin1'), 'base64'), runs),
    ],
    ['  gunzipSync of the whole release', time(() => gunzipSync(gz, { maxOutputLength: MAX }), runs)],
    [
      '  readReleaseFields (metadata, values, config; the rest skipped)',
      time(() => readReleaseFields(json), runs),
    ],
    [
      'before: the regex check of both base64 layers',
      time(() => BASE64.test(data.replace(/\s+/g, '')) && BASE64.test(helm.replace(/\s+/g, '')), runs),
    ],
    [
      'before: utf8 string + JSON.parse of the whole release',
      time(() => JSON.parse(json.toString('utf8')), runs),
    ],
    [
      'gloo-guard: releaseFromHelm (coalesce, model)',
      time(() => releaseFromHelm(rel, { location: 'bench' }), runs),
    ],
    ['gloo-guard: evaluate (all policies)', time(() => subject && judge(subject, defaultConfig()), runs)],
    [
      'limit: base64, base64, gunzip, JSON.parse',
      time(
        () =>
          JSON.parse(
            gunzipSync(Buffer.from(Buffer.from(data, 'base64').toString('latin1'), 'base64')).toString(
              'utf8',
            ),
          ),
        runs,
      ),
    ],
    [
      `not done: gunzip only up to the end of config (${Math.round((cfgEnd / json.length) * 100)}% of the JSON)`,
      time(() => gunzipSync(prefix, { finishFlush: zc.Z_SYNC_FLUSH }), runs),
    ],
  ];
  return [
    `### ${name}: Secret ${(helm.length / 1024).toFixed(0)} KiB, gzip ${(gz.length / 1024).toFixed(0)} KiB, JSON ${(json.length / 1024).toFixed(0)} KiB`,
    '',
    '| stage | median ms |',
    '|---|--:|',
    ...rows.map(([label, ms]) => `| ${label.replace(/^ {2}/, '&nbsp;&nbsp;')} | ${ms} |`),
    '',
  ];
}

function main(): void {
  pinSelf(SERVER_CORE);
  const reviews = loadReviews();
  const md = [
    '# Release decoding, stage by stage',
    '',
    `One process on core ${SERVER_CORE}, Node ${process.versions.node}; median of repeated runs after a warm-up. Written by \`npx tsx bench/decode-stages.ts\`.`,
    '',
    ...stages('large release', reviews['release-large'].body, 40),
    ...stages('small release', reviews['release-small'].body, 400),
  ].join('\n');
  writeFileSync(join(ROOT, 'bench', 'results', 'decode-stages.md'), md);
  process.stdout.write(`${md}\n`);
}

main();
