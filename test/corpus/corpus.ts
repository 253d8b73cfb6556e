/**
 * The real-world corpus (issue 12): corpus.yaml read as data, each file run through `gloo-guard check`,
 * the verdict compared with the expectation, and the table of docs/corpus.md. Shared by
 * test/corpus/corpus.test.ts and scripts/gen-docs.ts, so the docs show what the test measured.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { parse } from 'yaml';

const ROOT = resolve(import.meta.dirname, '../..');
const HERE = import.meta.dirname;

/** One expected finding of a corpus file, with why. */
export interface Expectation {
  policy: string;
  reason: string;
}

/** One public values file and the verdict it should get (fields as corpus.yaml documents them). */
export interface CorpusEntry {
  file: string;
  repository: string;
  path: string;
  commit: string;
  line?: number;
  source: 'vendor' | 'community';
  kind: string;
  chart: string;
  chartVersion: string;
  namespace: string;
  role: string;
  expect: Expectation[];
  warn: string[];
  note?: string;
}

/** What `gloo-guard check` said about one corpus file. */
export interface CorpusRun {
  code: number;
  denied: string[];
  warned: string[];
  notes: string[];
  stderr: string;
}

/** The entries of corpus.yaml, in file order. */
export function loadCorpus(): CorpusEntry[] {
  const doc = parse(readFileSync(resolve(HERE, 'corpus.yaml'), 'utf8')) as { entries: CorpusEntry[] };
  return doc.entries.map((e) => ({ ...e, expect: e.expect ?? [], warn: e.warn ?? [] }));
}

/** The stored file of an entry, relative to the repository root (how a user would name it). */
export function fileOf(e: CorpusEntry): string {
  return `test/corpus/${e.file}`;
}

/**
 * The `gloo-guard check` command line for an entry: its chart and version, the release namespace when the
 * source names one, and for an umbrella chart the dependency (the umbrella's directory names the chart).
 */
export function checkArgs(e: CorpusEntry): string[] {
  const umbrella = e.kind === 'umbrella';
  const chart = umbrella ? basename(dirname(e.path)) : e.chart;
  return [
    'check',
    '--chart',
    chart,
    ...(umbrella ? ['--subchart', e.chart] : []),
    ...(e.chartVersion !== 'unknown' ? ['--chart-version', e.chartVersion] : []),
    ...(e.namespace !== 'unknown' ? ['--namespace', e.namespace] : []),
    '--output',
    'json',
    fileOf(e),
  ];
}

interface Raw {
  code: number;
  stdout: string;
  stderr: string;
}

/** Reads the JSON report of one run; a run that printed no report keeps its stderr as the reason. */
export function runOf(raw: Raw): CorpusRun {
  let report: { violations?: Array<{ policy: string; action: string }>; notes?: string[] } = {};
  try {
    report = JSON.parse(raw.stdout) as typeof report;
  } catch {
    // exit 2 or a crash prints no report: the verdict is the exit code and stderr
  }
  const ids = (action: string) => [
    ...new Set((report.violations ?? []).filter((v) => v.action === action).map((v) => v.policy)),
  ];
  return {
    code: raw.code,
    denied: ids('deny'),
    warned: ids('warn'),
    notes: report.notes ?? [],
    stderr: raw.stderr,
  };
}

/** Runs the `check` command lines in one process (test/corpus/check-batch.ts). */
export function runBatch(commandLines: string[][]): Raw[] {
  const r = spawnSync(process.execPath, ['--import', 'tsx', resolve(HERE, 'check-batch.ts')], {
    cwd: ROOT,
    input: JSON.stringify(commandLines.map((c) => c.slice(1))),
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
    maxBuffer: 256 << 20,
  });
  if (r.status !== 0) throw new Error(`check-batch failed (${r.status}): ${r.stderr}`);
  return r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Raw);
}

/** Runs every entry through `gloo-guard check`. */
export function runCorpus(entries: CorpusEntry[]): CorpusRun[] {
  return runBatch(entries.map(checkArgs)).map(runOf);
}

/** How an entry's run differs from its expectation; empty when it matches. */
export function mismatches(e: CorpusEntry, run: CorpusRun): string[] {
  const out: string[] = [];
  const want = e.expect.map((x) => x.policy);
  const code = want.length > 0 ? 1 : 0;
  if (run.code !== code)
    out.push(`exit ${run.code}, expected ${code}${run.stderr ? `: ${run.stderr.trim()}` : ''}`);
  const missing = (a: string[], b: string[]) => a.filter((x) => !b.includes(x)).sort();
  const diff = (what: string, expected: string[], got: string[]) => {
    const miss = missing(expected, got);
    const extra = missing(got, expected);
    if (miss.length > 0) out.push(`${what} expected but absent: ${miss.join(', ')}`);
    if (extra.length > 0) out.push(`${what} not expected: ${extra.join(', ')}`);
  };
  diff('deny', want, run.denied);
  diff('warn', e.warn, run.warned);
  return out;
}

const cell = (s: string): string => s.replace(/\s+/g, ' ').replace(/\|/g, '\\|').trim();

function sourceLink(e: CorpusEntry): string {
  const anchor = e.line !== undefined ? `#L${e.line}` : '';
  return `[${e.repository}@${e.commit.slice(0, 8)}](https://github.com/${e.repository}/blob/${e.commit}/${e.path}${anchor})`;
}

function expected(e: CorpusEntry): string {
  return e.expect.length === 0 ? 'pass' : `deny: ${e.expect.map((x) => x.policy).join(', ')}`;
}

function reason(e: CorpusEntry): string {
  if (e.expect.length === 0) return cell(e.note ?? '');
  return e.expect.map((x) => `**${x.policy}**: ${cell(x.reason)}`).join('<br>');
}

function fired(run: CorpusRun): string {
  const parts = [...run.denied.map((p) => `${p} (deny)`), ...run.warned.map((p) => `${p} (warn)`)];
  if (run.code === 2 || run.code === -1) parts.push(`exit ${run.code}: ${cell(run.stderr)}`);
  return parts.length > 0 ? parts.join(', ') : 'none';
}

/** docs/corpus.md: every corpus file, where it was published, the expected verdict and what fired. */
export function corpusMarkdown(entries: CorpusEntry[], runs: CorpusRun[]): string {
  const matching = entries.filter((e, i) => mismatches(e, runs[i]!).length === 0).length;
  const rows = entries.map((e, i) => {
    const run = runs[i]!;
    const ok = mismatches(e, run).length === 0 ? 'yes' : 'NO';
    const version = e.chartVersion;
    return `| [${cell(basename(e.file))}](../test/corpus/${e.file}) | ${sourceLink(e)} | ${e.chart} | ${cell(version)} | ${e.role} | ${expected(e)} | ${reason(e)} | ${fired(run)} | ${ok} |`;
  });
  return [
    '# Real-world corpus: verdicts on public Gloo Mesh values files',
    '',
    '<!-- Generated by `npm run docs` from test/corpus/corpus.yaml and a real `gloo-guard check` run of every file; do not edit. -->',
    '',
    `${entries.length} public values files (the vendor's workshops and use-case repositories, and community GitOps`,
    'repositories), stored byte for byte in [test/corpus/values](../test/corpus/values) with their repository, path and',
    'commit. Each is run through `gloo-guard check --chart CHART --chart-version VERSION --namespace NS` under the',
    'default configuration; [corpus.yaml](../test/corpus/corpus.yaml) gives the expected verdict and why,',
    '[SOURCES.md](../test/corpus/SOURCES.md) the chart facts per version and the open questions.',
    '`test/corpus/corpus.test.ts` fails when a verdict differs from the expectation or this page from the run.',
    '',
    `**${matching} of ${entries.length} files get the expected verdict.**`,
    '',
    '| file | published at | chart | version | role | expected | why | what fired | match |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}
