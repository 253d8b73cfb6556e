/** The reviews of a run, generated once and kept in .cache/bench-reviews while their generator is unchanged. */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CACHE, ROOT } from './build.js';
import { buildReviews, type BenchReview, type ReviewSet } from './reviews.js';

const REVIEW_NAMES = ['deployment', 'namespace', 'release-small', 'release-large', 'gzip-bomb'] as const;

/** The reviews, generated once and cached while their generator is unchanged (the large one takes seconds). */
export function loadReviews(): ReviewSet {
  const sources = [
    'bench/reviews.ts',
    'bench/prng.ts',
    'src/helm/release.ts',
    'src/engine/charts/defaults.ts',
  ];
  const hash = createHash('sha256');
  for (const s of sources) hash.update(readFileSync(join(ROOT, s)));
  const dir = join(CACHE, 'bench-reviews', hash.digest('hex').slice(0, 16));
  const meta = join(dir, 'meta.json');
  if (existsSync(meta)) {
    const sizes = JSON.parse(readFileSync(meta, 'utf8')) as Record<string, Omit<BenchReview, 'body'>>;
    const load = (name: (typeof REVIEW_NAMES)[number]): BenchReview => ({
      ...sizes[name],
      name,
      body: readFileSync(join(dir, `${name}.json`)),
    });
    return {
      deployment: load('deployment'),
      namespace: load('namespace'),
      'release-small': load('release-small'),
      'release-large': load('release-large'),
      'gzip-bomb': load('gzip-bomb'),
    };
  }
  process.stdout.write(
    'generating reviews (the large release is fitted to the 1 MiB Secret limit; cached afterwards)\n',
  );
  const set = buildReviews();
  mkdirSync(dir, { recursive: true });
  const sizes: Record<string, Omit<BenchReview, 'body'>> = {};
  for (const name of REVIEW_NAMES) {
    const { body, ...rest } = set[name];
    writeFileSync(join(dir, `${name}.json`), body);
    sizes[name] = rest;
  }
  writeFileSync(meta, JSON.stringify(sizes, null, 2));
  return set;
}
