/** `gloo-guard check`: judge values files, manifests or release Secrets, as CI would before a cluster does. */
import { majorMinor } from '../engine/charts/adapters.js';
import { evaluate } from '../engine/evaluate.js';
import { JUDGED_CHARTS } from '../engine/carriers/umbrella.js';
import { readObject, releaseFromValues, withCondition } from '../engine/subjects.js';
import { subchartValues } from '../engine/carriers/umbrella.js';
import { renderedGap } from '../engine/carriers/rendered.js';
import type { Subject } from '../engine/types.js';
import type { Config } from '../config/types.js';
import { catalogOf } from '../rules/catalog.js';
import { configFrom, outputFormat, parse, reportFailure, UsageError, type OutputFormat } from './args.js';
import { renderHtml } from './format/html.js';
import { renderJson } from './format/json.js';
import { renderJunit } from './format/junit.js';
import { renderSarif } from './format/sarif.js';
import { renderText } from './format/text.js';
import { checkCarrierContext } from './carrier-context.js';
import { displayName, InputFileError, readManifestFile, readValuesFile } from './inputs.js';
import { exitCode, type Report } from './report.js';
import { version } from './version.js';

const HELP = `usage: gloo-guard check FILE... [--chart NAME [--chart-version V] [--subchart [ALIAS=]CHART]]
                        [--namespace NS] [--release NAME] [--values-dir DIR]
                        [--config FILE] [--output text|json|sarif|junit]

  With --chart, FILEs are Helm values files of that chart, merged in order like helm -f a -f b;
  --subchart judges the values of a dependency of an umbrella chart (under its alias or name;
  ALIAS.enabled is read as the dependency's condition, Helm's convention, and not reported).
  Without it, FILEs are manifests (helm template, kubectl get -o yaml, Lists), release Secrets or
  ConfigMaps, Argo CD Applications and Flux HelmReleases (valuesFrom read from ConfigMaps and
  Secrets among the FILEs); --values-dir is a checkout of the git repository that Argo CD value
  files and charts are read from.
  "-" reads standard input. --output html writes one self-contained page (a CI artifact).
  Exit: 0 nothing denied, 1 something would be denied, 2 bad input or usage.`;

const OPTIONS = {
  chart: { type: 'string' },
  'chart-version': { type: 'string' },
  namespace: { type: 'string', short: 'n' },
  release: { type: 'string' },
  subchart: { type: 'string' },
  'values-dir': { type: 'string' },
  config: { type: 'string', short: 'c' },
  output: { type: 'string', short: 'o' },
  help: { type: 'boolean', short: 'h' },
} as const;

const SUPPORTED = 'gloo-mesh-enterprise 2.x, gloo-mesh-agent 2.x, gloo-platform 2.3 and later';

interface CheckOptions {
  files: string[];
  chart?: string;
  chartVersion?: string;
  namespace?: string;
  release?: string;
  subchart?: string;
  valuesDir?: string;
}

/** `--subchart gloo-platform` or `--subchart mesh=gloo-platform` (alias=chart). */
function subchartOf(flag: string): { key: string; chart: string } {
  const [key = '', chart = key] = flag.split('=', 2);
  if (key === '' || chart === '') throw new UsageError(`--subchart ${flag}: give CHART or ALIAS=CHART`);
  return { key, chart };
}

/** A values file of a judged chart that holds another judged chart's values at the top: umbrella values. */
function umbrellaKeysIn(values: Record<string, unknown>[], files: string[]): string[] {
  return values.flatMap((v, i) =>
    JUDGED_CHARTS.filter((c) => c in v).map(
      (c) =>
        `${files[i] === '-' ? '<stdin>' : files[i]}: top-level key ${c} holds umbrella chart values, which the chart itself never reads; nothing under it was judged (use --subchart ${c})`,
    ),
  );
}

function judgeValues(o: CheckOptions & { chart: string }, config: Config): Report {
  const raw = o.files.map(readValuesFile);
  const sub = o.subchart !== undefined ? subchartOf(o.subchart) : undefined;
  const values = sub ? raw.map((v) => subchartValues(v, sub.key)) : raw;
  const chart = sub ? sub.chart : o.chart;
  const subject = releaseFromValues({
    chart,
    values,
    source: { location: o.files.map((f) => (f === '-' ? '<stdin>' : f)).join(',') },
    ...(o.chartVersion !== undefined ? { chartVersion: o.chartVersion } : {}),
    ...(o.namespace !== undefined ? { namespace: o.namespace } : {}),
    ...(o.release !== undefined ? { releaseName: o.release } : {}),
  });
  if (!subject) {
    const v = o.chartVersion ? ` ${o.chartVersion}` : '';
    const notVersion =
      o.chartVersion !== undefined && majorMinor(o.chartVersion) === undefined
        ? `; ${o.chartVersion} is not a chart version (write it as helm does, e.g. 2.6.5)`
        : '';
    const hint =
      notVersion ||
      (umbrellaKeysIn(raw, o.files).length > 0 ? '; for an umbrella chart add --subchart CHART' : '');
    throw new UsageError(`--chart ${chart}${v} is not a chart gloo-guard judges (${SUPPORTED})${hint}`);
  }
  // Without the umbrella's Chart.yaml, its condition is taken to be Helm's convention, ALIAS.enabled.
  const withParent = sub
    ? withCondition({ ...subject, chart: { ...subject.chart, parent: { name: o.chart, version: '' } } }, [
        'enabled',
      ])
    : subject;
  const errors = sub ? [] : umbrellaKeysIn(raw, o.files).map((message) => ({ source: o.chart, message }));
  return { results: [evaluate(withParent, config, { policies: catalogOf(config) })], errors, skipped: 0 };
}

function judgeManifests(files: string[], valuesDir: string | undefined, config: Config): Report {
  const report: Report = { results: [], errors: [], skipped: 0, notJudged: [] };
  const objects = files.flatMap(readManifestFile);
  const ctx = checkCarrierContext(objects, valuesDir);
  const byInput = new Map<string, Subject[]>();
  for (const { object, location, admission, input } of objects) {
    const source = { location, ...(admission ? { admission } : {}) };
    const read = readObject(object, source, config.limits.maxReleaseBytes, ctx);
    if ('notJudged' in read) {
      report.skipped += 1;
      report.notJudged?.push({ source: location, message: read.notJudged });
    } else if ('problem' in read) report.errors.push({ source: location, message: read.problem });
    else {
      for (const subject of read.subjects)
        report.results.push(evaluate(subject, config, { policies: catalogOf(config) }));
      const key = input ?? location;
      byInput.set(key, [...(byInput.get(key) ?? []), ...read.subjects]);
      if (read.subjects.length === 0) report.skipped += 1;
    }
  }
  for (const [input, subjects] of byInput) {
    const gap = renderedGap(subjects, catalogOf(config), config);
    if (gap !== undefined) report.notJudged?.push({ source: input, message: gap });
  }
  // Objects a carrier names but cannot judge are reported by the carriers' own lines instead.
  if (report.results.length === 0 && report.errors.length === 0 && (report.notJudged ?? []).length === 0)
    throw new InputFileError(nothingJudged(files, report.skipped));
  return report;
}

/** Why a run judged nothing: an exit 0 then would pass a pipe whose first command failed. */
function nothingJudged(files: string[], skipped: number): string {
  const names = files.map(displayName).join(', ');
  if (skipped > 0)
    return `${names}: nothing judged: ${skipped} object(s) read, none a Helm release Secret, Namespace, Deployment or Service; for Helm values add --chart NAME`;
  const pipe = files.includes('-')
    ? ' (if it was piped from helm template, that command failed: use set -o pipefail)'
    : '';
  return `${names}: nothing judged: no Kubernetes object in the input${pipe}`;
}

function render(report: Report, format: OutputFormat, files: string[], config: Config): string {
  switch (format) {
    case 'html': {
      const name = files.map((f) => (f === '-' ? '<stdin>' : f)).join(', ');
      const scope = `${files.length === 1 ? '1 input' : `${files.length} inputs`} checked`;
      const columns = [{ name, note: 'gloo-guard check', report }];
      const page = {
        title: 'gloo-guard check',
        scope,
        columnNoun: 'input',
        generatedAt: new Date(),
        version: version(),
        columns,
      };
      return renderHtml({ ...page, crossCluster: [] });
    }
    case 'json':
      return renderJson(report);
    case 'sarif':
      return renderSarif(report, version(), catalogOf(config));
    case 'junit':
      return renderJunit(report);
    case 'text':
      return renderText(report, Boolean(process.stdout.isTTY) && !process.env.NO_COLOR);
  }
}

/** Runs `gloo-guard check`; returns the exit code. */
export async function runCheck(args: string[]): Promise<number> {
  await Promise.resolve();
  try {
    const { values: v, positionals } = parse(args, OPTIONS);
    if (v.help) {
      process.stdout.write(`${HELP}\n`);
      return 0;
    }
    if (positionals.length === 0) throw new UsageError('no FILE given');
    if (v['chart-version'] !== undefined && v.chart === undefined)
      throw new UsageError('--chart-version needs --chart');
    if (v.subchart !== undefined && v.chart === undefined) throw new UsageError('--subchart needs --chart');
    if (v['values-dir'] !== undefined && v.chart !== undefined)
      throw new UsageError('--values-dir reads Argo CD value files: give Applications, not --chart');
    const format = outputFormat(v.output);
    const config = configFrom(v.config);
    const opts: CheckOptions = { files: positionals, ...pick(v) };
    const report =
      opts.chart !== undefined
        ? judgeValues({ ...opts, chart: opts.chart }, config)
        : judgeManifests(positionals, opts.valuesDir, config);
    process.stdout.write(render(report, format, positionals, config));
    return exitCode(report, config);
  } catch (err: unknown) {
    return reportFailure(err, HELP);
  }
}

function pick(v: {
  chart?: string;
  'chart-version'?: string;
  namespace?: string;
  release?: string;
  subchart?: string;
  'values-dir'?: string;
}): Omit<CheckOptions, 'files'> {
  return {
    ...(v.subchart !== undefined ? { subchart: v.subchart } : {}),
    ...(v['values-dir'] !== undefined ? { valuesDir: v['values-dir'] } : {}),
    ...(v.chart !== undefined ? { chart: v.chart } : {}),
    ...(v['chart-version'] !== undefined ? { chartVersion: v['chart-version'] } : {}),
    ...(v.namespace !== undefined ? { namespace: v.namespace } : {}),
    ...(v.release !== undefined ? { release: v.release } : {}),
  };
}
