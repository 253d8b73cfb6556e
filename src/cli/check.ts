/** `gloo-guard check`: judge values files, manifests or release Secrets, as CI would before a cluster does. */
import { evaluate } from '../engine/evaluate.js';
import { InputError, releaseFromValues, subjectFromObject } from '../engine/subjects.js';
import type { Config } from '../config/types.js';
import { catalogOf } from '../rules/catalog.js';
import { configFrom, outputFormat, parse, reportFailure, UsageError, type OutputFormat } from './args.js';
import { renderJson } from './format/json.js';
import { renderJunit } from './format/junit.js';
import { renderSarif } from './format/sarif.js';
import { renderText } from './format/text.js';
import { readManifestFile, readValuesFile } from './inputs.js';
import { exitCode, type Report } from './report.js';
import { version } from './version.js';

const HELP = `usage: gloo-guard check FILE... [--chart NAME [--chart-version V]] [--namespace NS] [--release NAME]
                        [--config FILE] [--output text|json|sarif|junit]

  With --chart, FILEs are Helm values files of that chart, merged in order like helm -f a -f b.
  Without it, FILEs are manifests (helm template, kubectl get -o yaml, Lists) or release Secrets.
  "-" reads standard input. Exit: 0 nothing denied, 1 something would be denied, 2 bad input or usage.`;

const OPTIONS = {
  chart: { type: 'string' },
  'chart-version': { type: 'string' },
  namespace: { type: 'string', short: 'n' },
  release: { type: 'string' },
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
}

function judgeValues(o: CheckOptions & { chart: string }, config: Config): Report {
  const values = o.files.map(readValuesFile);
  const subject = releaseFromValues({
    chart: o.chart,
    values,
    source: { location: o.files.map((f) => (f === '-' ? '<stdin>' : f)).join(',') },
    ...(o.chartVersion !== undefined ? { chartVersion: o.chartVersion } : {}),
    ...(o.namespace !== undefined ? { namespace: o.namespace } : {}),
    ...(o.release !== undefined ? { releaseName: o.release } : {}),
  });
  if (!subject) {
    const v = o.chartVersion ? ` ${o.chartVersion}` : '';
    throw new UsageError(`--chart ${o.chart}${v} is not a chart gloo-guard judges (${SUPPORTED})`);
  }
  return { results: [evaluate(subject, config)], errors: [], skipped: 0 };
}

function judgeManifests(files: string[], config: Config): Report {
  const report: Report = { results: [], errors: [], skipped: 0 };
  for (const file of files) {
    for (const { object, location } of readManifestFile(file)) {
      try {
        const subject = subjectFromObject(object, { location }, config.limits.maxReleaseBytes);
        if (subject) report.results.push(evaluate(subject, config));
        else report.skipped += 1;
      } catch (err: unknown) {
        if (!(err instanceof InputError)) throw err;
        report.errors.push({ source: location, message: err.message });
      }
    }
  }
  return report;
}

function render(report: Report, format: OutputFormat, config: Config): string {
  switch (format) {
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
    const format = outputFormat(v.output);
    const config = configFrom(v.config);
    const opts: CheckOptions = { files: positionals, ...pick(v) };
    const report =
      opts.chart !== undefined
        ? judgeValues({ ...opts, chart: opts.chart }, config)
        : judgeManifests(positionals, config);
    process.stdout.write(render(report, format, config));
    return exitCode(report);
  } catch (err: unknown) {
    return reportFailure(err, HELP);
  }
}

function pick(v: {
  chart?: string;
  'chart-version'?: string;
  namespace?: string;
  release?: string;
}): Omit<CheckOptions, 'files'> {
  return {
    ...(v.chart !== undefined ? { chart: v.chart } : {}),
    ...(v['chart-version'] !== undefined ? { chartVersion: v['chart-version'] } : {}),
    ...(v.namespace !== undefined ? { namespace: v.namespace } : {}),
    ...(v.release !== undefined ? { release: v.release } : {}),
  };
}
