/**
 * `gloo-guard test DIR`: rules tested like code, as `kyverno test` and `gator verify` do. Every
 * `*.test.yaml` under DIR names a config, inputs (values or manifests) and the verdict each policy
 * must give; the run passes only when every verdict is the one expected.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { loadConfig } from '../config/load.js';
import { defaultConfig, type Config } from '../config/types.js';
import { evaluate, type EvaluationResult } from '../engine/evaluate.js';
import { InputError, releaseFromValues, subjectFromObject } from '../engine/subjects.js';
import type { Subject } from '../engine/types.js';
import { isObject } from '../engine/values.js';
import { catalogOf } from '../rules/catalog.js';
import { userRuleMatches } from '../rules/policy.js';
import { outputFormat, parseOrHelp, reportFailure, UsageError } from './args.js';
import { InputFileError, readManifestFile, readValuesFile } from './inputs.js';

const HELP = `usage: gloo-guard test DIR... [--output text|junit]

  Runs every *.test.yaml under DIR: each names a config (its rules), inputs and the verdict each
  policy must give (pass, fail, error or skip). Exit: 0 all as expected, 1 a verdict differs,
  2 a test file is wrong.`;

const OPTIONS = { output: { type: 'string', short: 'o' }, help: { type: 'boolean', short: 'h' } } as const;

/** What a policy said about a test's inputs. */
export type TestVerdict = 'pass' | 'fail' | 'error' | 'skip';
const VERDICTS: readonly TestVerdict[] = ['pass', 'fail', 'error', 'skip'];

/** One expected verdict and the one given. */
export interface CaseResult {
  file: string;
  test: string;
  policy: string;
  want: TestVerdict;
  got: TestVerdict;
  /** The messages behind the verdict (findings or errors). */
  detail: string[];
}

interface TestCase {
  name: string;
  chart?: string;
  chartVersion?: string;
  namespace?: string;
  release?: string;
  values: unknown[];
  manifests: unknown[];
  expect: Record<string, TestVerdict>;
}

/** A test file that cannot be run: names the file and the problem (printed as an input error, exit 2). */
class TestFileError extends InputFileError {
  override name = 'TestFileError';
}

function optString(t: Record<string, unknown>, key: string, where: string): string | undefined {
  const v = t[key];
  if (v === undefined) return undefined;
  if (typeof v === 'string' || typeof v === 'number') return String(v);
  throw new TestFileError(`${where}.${key} must be a string`);
}

function list(t: Record<string, unknown>, key: string, where: string): unknown[] {
  const v = t[key];
  if (v === undefined) return [];
  if (!Array.isArray(v))
    throw new TestFileError(`${where}.${key} must be a list (file paths or inline YAML)`);
  return v;
}

function readExpect(
  t: Record<string, unknown>,
  where: string,
  known: ReadonlySet<string>,
): Record<string, TestVerdict> {
  if (!isObject(t.expect) || Object.keys(t.expect).length === 0)
    throw new TestFileError(`${where}.expect must map policy ids to pass, fail, error or skip`);
  for (const [id, v] of Object.entries(t.expect)) {
    if (!known.has(id)) throw new TestFileError(`${where}.expect: unknown policy or rule id "${id}"`);
    if (!VERDICTS.includes(v as TestVerdict))
      throw new TestFileError(
        `${where}.expect.${id} must be one of ${VERDICTS.join(', ')}, not "${String(v)}"`,
      );
  }
  return t.expect as Record<string, TestVerdict>;
}

function readCase(t: unknown, i: number, file: string, known: ReadonlySet<string>): TestCase {
  const where = `${file}: tests[${i}]`;
  if (!isObject(t)) throw new TestFileError(`${where} must be a mapping`);
  const c: TestCase = {
    name: optString(t, 'name', where) ?? `tests[${i}]`,
    values: list(t, 'values', where),
    manifests: list(t, 'manifests', where),
    expect: readExpect(t, where, known),
  };
  for (const k of ['chart', 'chartVersion', 'namespace', 'release'] as const) {
    const v = optString(t, k, where);
    if (v !== undefined) c[k] = v;
  }
  if (c.values.length > 0 === c.manifests.length > 0)
    throw new TestFileError(`${where} needs either values (with chart) or manifests`);
  if (c.values.length > 0 && c.chart === undefined) throw new TestFileError(`${where}: values need a chart`);
  return c;
}

function valuesOf(item: unknown, dir: string, where: string): Record<string, unknown> {
  if (typeof item === 'string') return readValuesFile(resolve(dir, item));
  if (isObject(item)) return item;
  throw new TestFileError(`${where}: a values entry is a file path or a mapping`);
}

function subjectsOf(c: TestCase, dir: string, where: string, config: Config): Subject[] {
  if (c.chart !== undefined) {
    const s = releaseFromValues({
      chart: c.chart,
      values: c.values.map((v) => valuesOf(v, dir, where)),
      source: { location: where },
      ...(c.chartVersion !== undefined ? { chartVersion: c.chartVersion } : {}),
      ...(c.namespace !== undefined ? { namespace: c.namespace } : {}),
      ...(c.release !== undefined ? { releaseName: c.release } : {}),
    });
    if (!s) throw new TestFileError(`${where}: chart ${c.chart} is not a chart gloo-guard judges`);
    return [s];
  }
  const objects = c.manifests.flatMap((m) =>
    typeof m === 'string'
      ? readManifestFile(resolve(dir, m))
      : isObject(m)
        ? [{ object: m, location: where }]
        : [],
  );
  return objects.flatMap(({ object, location, admission }) => {
    try {
      const source = { location, ...(admission ? { admission } : {}) };
      return subjectFromObject(object, source, config.limits.maxReleaseBytes) ?? [];
    } catch (err: unknown) {
      if (err instanceof InputError) throw new TestFileError(`${where}: ${err.message}`);
      throw err;
    }
  });
}

/** The verdict of one policy over the results of a test's subjects: fail > error > pass > skip. */
function verdictOf(
  id: string,
  subjects: Subject[],
  results: EvaluationResult[],
  config: Config,
): { got: TestVerdict; detail: string[] } {
  const findings = results.flatMap((r) => r.findings.filter((f) => f.policy === id).map((f) => f.message));
  if (findings.length > 0) return { got: 'fail', detail: findings };
  const errors = results.flatMap((r) => r.errors.filter((e) => e.policy === id).map((e) => e.message));
  if (errors.length > 0) return { got: 'error', detail: errors };
  const policy = catalogOf(config).find((p) => p.id === id);
  const rule = config.rules.find((r) => r.id === id);
  const action = config.policies[id]?.action ?? policy?.defaultAction;
  const exempted = results.some((r) => r.exempted.some((e) => e.policy === id));
  const applies = subjects.some(
    (s) => policy?.appliesTo.includes(s.kind) && (rule === undefined || userRuleMatches(rule.match, s)),
  );
  return { got: applies && action !== 'off' && !exempted ? 'pass' : 'skip', detail: [] };
}

function runFile(file: string): CaseResult[] {
  const dir = dirname(file);
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(file, 'utf8'));
  } catch (err: unknown) {
    throw new TestFileError(
      `${file}: not valid YAML: ${(err instanceof Error ? err.message : String(err)).split('\n')[0] ?? ''}`,
    );
  }
  if (!isObject(doc) || !Array.isArray(doc.tests)) throw new TestFileError(`${file}: needs a list of tests`);
  const configFile = optString(doc, 'config', file);
  const config = configFile === undefined ? defaultConfig() : loadConfig(resolve(dir, configFile));
  const known = new Set(catalogOf(config).map((p) => p.id));
  return doc.tests.flatMap((t, i) => {
    const c = readCase(t, i, file, known);
    const subjects = subjectsOf(c, dir, `${file}: ${c.name}`, config);
    const results = subjects.map((s) => evaluate(s, config, { policies: catalogOf(config) }));
    return Object.entries(c.expect).map(([policy, want]) => ({
      file,
      test: c.name,
      policy,
      want,
      ...verdictOf(policy, subjects, results, config),
    }));
  });
}

/** Every `*.test.yaml` / `*.test.yml` under a directory (or the file itself), sorted. */
export function testFiles(path: string): string[] {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new UsageError(`${path}: no such file or directory`);
  }
  if (st.isFile()) return [path];
  return readdirSync(path, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.test\.ya?ml$/.test(f))
    .map((f) => join(path, f))
    .sort();
}

/** Runs the test files; the results of every expected verdict. */
export function runTests(paths: string[]): CaseResult[] {
  const files = paths.flatMap(testFiles);
  if (files.length === 0) throw new UsageError(`no *.test.yaml files under ${paths.join(', ')}`);
  return files.flatMap(runFile);
}

function xml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The results as JUnit XML: one suite per test file, one case per expected verdict. */
export function testsJunit(results: CaseResult[]): string {
  const byFile = new Map<string, CaseResult[]>();
  for (const r of results) byFile.set(r.file, [...(byFile.get(r.file) ?? []), r]);
  const suites = [...byFile].map(([file, cases]) => {
    const failed = cases.filter((c) => c.want !== c.got);
    const body = cases.map((c) => {
      const name = xml(`${c.test}: ${c.policy} ${c.want}`);
      const failure =
        c.want === c.got
          ? ''
          : `<failure message="${xml(`want ${c.want}, got ${c.got}`)}">${xml(c.detail.join('\n'))}</failure>`;
      return `    <testcase classname="${xml(file)}" name="${name}">${failure}</testcase>`;
    });
    return `  <testsuite name="${xml(file)}" tests="${cases.length}" failures="${failed.length}" errors="0">\n${body.join('\n')}\n  </testsuite>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="gloo-guard test">\n${suites.join('\n')}\n</testsuites>\n`;
}

function testsText(results: CaseResult[]): string {
  const lines = results.map((r) => {
    const ok = r.want === r.got;
    const head = `${ok ? 'PASS' : 'FAIL'} ${relative(process.cwd(), r.file)}: ${r.test}: ${r.policy} ${ok ? r.got : `want ${r.want}, got ${r.got}`}`;
    return ok || r.detail.length === 0 ? head : `${head}\n${r.detail.map((d) => `     ${d}`).join('\n')}`;
  });
  const failed = results.filter((r) => r.want !== r.got).length;
  return `${lines.join('\n')}\n${results.length - failed} of ${results.length} verdicts as expected\n`;
}

/** Runs `gloo-guard test`. */
export async function runTest(args: string[]): Promise<number> {
  await Promise.resolve();
  try {
    const parsed = parseOrHelp(args, OPTIONS, HELP);
    if (!parsed) return 0;
    const { values, positionals } = parsed;
    if (positionals.length === 0) throw new UsageError('no DIR given');
    const format = outputFormat(values.output, ['text', 'junit']);
    const results = runTests(positionals);
    process.stdout.write(format === 'junit' ? testsJunit(results) : testsText(results));
    return results.every((r) => r.want === r.got) ? 0 : 1;
  } catch (err: unknown) {
    return reportFailure(err, HELP);
  }
}
