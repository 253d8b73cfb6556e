/**
 * The TypeScript side of the helm-diff harness: runs the Go helpers built on the real helm.sh/helm v3
 * and v4 modules (test/helm-diff/{v3,v4}) and returns what Helm decided, so tests can compare
 * gloo-guard's reading with Helm's own. See README.md.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GoDependency, ReleaseFields } from '../../src/helm/release-json.js';

/** The Helm majors the harness judges with. */
export const MAJORS = ['v3', 'v4'] as const;
/** One Helm major. */
export type Major = (typeof MAJORS)[number];

const HERE = dirname(fileURLToPath(import.meta.url));

/** Builds the helpers when their sources changed (cached by a stamp) and returns their directory. */
export function buildHarness(log: (s: string) => void = () => undefined): string {
  const out = execFileSync(join(HERE, 'build.sh'), [], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 16 * 1024 * 1024,
  });
  const lines = out.trim().split('\n');
  const dir = lines[lines.length - 1] ?? '';
  log(`helm-diff binaries in ${dir}`);
  return dir;
}

let binDir: string | undefined;

function binary(major: Major): string {
  binDir ??= buildHarness();
  const file = join(binDir, `helm-diff-${major}`);
  if (!existsSync(file)) throw new Error(`helm-diff: ${file} is missing after the build`);
  return file;
}

/** One case's answer: what Helm returned, or Helm's error text, and what Helm logged meanwhile. */
export interface HelmResult<T> {
  ok?: T;
  error?: string;
  warnings?: string[];
}

/** Runs one batch in one process of the given major. */
export function runHelm<T>(major: Major, mode: string, cases: unknown[]): HelmResult<T>[] {
  const out = execFileSync(binary(major), [], {
    input: JSON.stringify({ mode, cases }),
    encoding: 'utf8',
    maxBuffer: 512 * 1024 * 1024,
  });
  const answer = JSON.parse(out) as { results: HelmResult<T>[] };
  if (answer.results.length !== cases.length)
    throw new Error(`helm-diff ${major}: ${cases.length} cases, ${answer.results.length} answers`);
  return answer.results;
}

/** The Helm module version a helper was built with (`v3.17.3`, `v4.3.2`). */
export function helmVersion(major: Major): string {
  const out = execFileSync(binary(major), [], { input: '{"mode":"version"}', encoding: 'utf8' });
  return (JSON.parse(out) as { helm: string }).helm;
}

/**
 * What Helm's storage driver read from a release Secret or ConfigMap (null: absent in Go). The
 * shape is gloo-guard's own ReleaseFields, so the two readings compare as they are.
 */
export type HelmReleaseView = ReleaseFields;

/** Reads release Secrets or ConfigMaps (as the API shows them) with Helm's storage drivers. */
export function readReleases(major: Major, objects: unknown[]): HelmResult<HelmReleaseView>[] {
  return runHelm(
    major,
    'release',
    objects.map((object) => ({ object })),
  );
}

/** A chart as files (`Chart.yaml`, `values.yaml`, `charts/sub/Chart.yaml`, ...) and the user's values. */
export interface ValuesCase {
  files: Record<string, string>;
  valueFiles?: string[];
  set?: string[];
  setString?: string[];
  setJSON?: string[];
}

/**
 * What Helm renders with: `.Values`, and the subcharts left enabled (`parent/child` paths); and what
 * a release of that install stores: the chart's values and dependencies as ProcessDependencies left them.
 */
export interface HelmValuesView {
  values: Record<string, unknown>;
  enabled: string[];
  chartValues: Record<string, unknown> | null;
  dependencies: Array<GoDependency | null> | null;
}

/** Loads charts and user values as `helm install DIR -f ... --set ...` does before rendering. */
export function renderValues(major: Major, cases: ValuesCase[]): HelmResult<HelmValuesView>[] {
  return runHelm(major, 'values', cases);
}

/** A value given as JSON (decoded as a release's values are) or as a YAML values file with key `v`. */
export type TruthyCase = { json: unknown } | { yaml: string };

/** What `{{ if }}` decides, and what `strconv.ParseBool(fmt.Sprint(v))` decides (null: an error). */
export interface HelmTruthy {
  if: boolean;
  sprint: string;
  parseBool: boolean | null;
}

/** Judges the truthiness of values with Helm's template engine and Go's ParseBool. */
export function truthy(major: Major, cases: TruthyCase[]): HelmResult<HelmTruthy>[] {
  return runHelm(major, 'truthy', cases);
}

/** Every non-ASCII rune that encoding/json matches to a one-character ASCII field name. */
export function foldTable(major: Major): Array<{ rune: number; matches: string }> {
  const out = execFileSync(binary(major), [], { input: '{"mode":"fold"}', encoding: 'utf8' });
  return (JSON.parse(out) as { results: Array<{ rune: number; matches: string }> }).results;
}
