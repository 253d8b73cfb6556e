/** `gloo-guard audit`: judge what already runs in one or more clusters, with the same engine as the webhook. */
import { auditCluster, type ClusterAudit } from '../audit/audit.js';
import { crossClusterFindings, type CrossClusterFinding } from '../audit/cross-cluster.js';
import {
  buildPolicyReports,
  isReportGroup,
  REPORT_APIS,
  reportGroupProblem,
  type ReportGroup,
} from '../audit/policy-report.js';
import type { Config } from '../config/types.js';
import { catalogOf } from '../rules/catalog.js';
import { apiClusterSource } from '../k8s/cluster-source.js';
import { policyReportsAvailable, writePolicyReports } from '../audit/write-reports.js';
import { Kubeconfig } from '../k8s/kubeconfig.js';
import { KubeApiError, KubeRest } from '../k8s/rest.js';
import { configFrom, outputFormat, parse, reportFailure, UsageError, type OutputFormat } from './args.js';
import { renderHtml, type HtmlColumn, type HtmlPage } from './format/html.js';
import { renderJson } from './format/json.js';
import { renderJunit } from './format/junit.js';
import { renderSarif } from './format/sarif.js';
import { renderText } from './format/text.js';
import { exitCode, type Report } from './report.js';
import { version } from './version.js';

const HELP = `usage: gloo-guard audit [--kubeconfig FILE] [--context NAME]... [--all-contexts] [--config FILE]
                        [--output text|json|sarif|junit|html] [--write-reports [--reports-api GROUP]] [--quiet]

  Judges every Gloo Mesh release (latest revision), Namespace, Deployment and the management Service
  of each cluster. Several contexts in one run also find what is wrong across clusters (two management
  planes, an agent that relays to no management cluster of the set). --write-reports stores the
  findings as PolicyReports (wgpolicyk8s.io/v1alpha2) where that CRD exists; --reports-api openreports.io
  writes OpenReports Reports (openreports.io/v1alpha1) instead. --output html writes one self-contained
  page: clusters by policy, each finding with its fix.
  Exit: 0 nothing denied, 1 something would be denied, 2 bad input, usage, or a cluster that cannot be read.`;

const OPTIONS = {
  kubeconfig: { type: 'string' },
  context: { type: 'string', multiple: true },
  'all-contexts': { type: 'boolean' },
  config: { type: 'string', short: 'c' },
  output: { type: 'string', short: 'o' },
  'write-reports': { type: 'boolean' },
  'reports-api': { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
  help: { type: 'boolean', short: 'h' },
} as const;

function contextsOf(
  kc: Kubeconfig,
  wanted: string[] | undefined,
  all: boolean | undefined,
  file: string | undefined,
): string[] {
  const known = kc.contexts;
  if (all) return known;
  if (!wanted || wanted.length === 0) {
    const current = kc.currentContext;
    if (!current)
      throw new UsageError(
        `the kubeconfig ${file ?? '(default)'} has no current-context; name one with --context NAME ` +
          `(known: ${known.join(', ') || 'none'}), use --all-contexts, or run kubectl config use-context NAME`,
      );
    return [current];
  }
  for (const c of wanted)
    if (!known.includes(c))
      throw new UsageError(`no context "${c}" in the kubeconfig (known: ${known.join(', ')})`);
  return wanted;
}

/** What one `audit` run gathered from its clusters. */
export interface AuditRun {
  audits: ClusterAudit[];
  failures: Array<{ source: string; message: string }>;
  cross: CrossClusterFinding[];
  reports: string[];
}

async function auditContext(
  kc: Kubeconfig,
  context: string,
  config: Config,
  write: ReportGroup | undefined,
  progress: (s: string) => void,
  run: AuditRun,
): Promise<void> {
  try {
    const rest = new KubeRest(kc.access(context));
    const audit = await auditCluster(apiClusterSource(context, rest), config, { progress });
    run.audits.push(audit);
    if (write !== undefined) run.reports.push(await writeReports(rest, audit, write));
  } catch (err: unknown) {
    if (!(err instanceof KubeApiError)) throw err;
    run.failures.push({ source: context, message: `cannot audit cluster: ${err.message}` });
  }
}

async function writeReports(rest: KubeRest, audit: ClusterAudit, group: ReportGroup): Promise<string> {
  const { apiVersion, kind } = REPORT_APIS[group];
  if (!(await policyReportsAvailable(rest, group)))
    return `${audit.cluster}: the ${kind} CRD (${apiVersion}) is not installed; no reports written`;
  const reports = buildPolicyReports(audit, new Date(), group);
  const { written, deleted } = await writePolicyReports(rest, reports, group);
  return `${audit.cluster}: ${written} ${kind}s (${apiVersion}) written, ${deleted} removed`;
}

function reportsApi(v: { 'write-reports'?: boolean; 'reports-api'?: string }): ReportGroup | undefined {
  const text = v['reports-api'];
  if (text === undefined) return v['write-reports'] ? 'wgpolicyk8s.io' : undefined;
  if (!v['write-reports']) throw new UsageError('--reports-api needs --write-reports');
  if (!isReportGroup(text)) throw new UsageError(reportGroupProblem(text));
  return text;
}

/** A list that could not be read: an error when it was forbidden (the audit is incomplete), else a note. */
function unreadOf(a: ClusterAudit, forbidden: boolean): Report['errors'] {
  return a.unread
    .filter((u) => u.forbidden === forbidden)
    .map(({ source, message }) => ({ source, message }));
}

function toReport(run: AuditRun): Report {
  return {
    results: run.audits.flatMap((a) => a.objects.map((o) => o.result)),
    errors: [...run.failures, ...run.audits.flatMap((a) => [...a.errors, ...unreadOf(a, true)])],
    skipped: 0,
    notJudged: run.audits.flatMap((a) => unreadOf(a, false)),
  };
}

function clusterLines(run: AuditRun): string[] {
  return run.audits.map(
    (a) =>
      `cluster ${a.cluster}: ${a.role === 'none' ? 'no Gloo Mesh' : a.role}; ${a.counts.namespaces} namespaces, ${a.counts.deployments} deployments, ${a.counts.releases} Gloo Mesh releases`,
  );
}

/** The fleet page of an audit run: one column per cluster (read or not), cross-cluster findings below. */
export function fleetPage(run: Omit<AuditRun, 'reports'>, now: Date): HtmlPage {
  const columns: HtmlColumn[] = [
    ...run.audits.map((a) => ({
      name: a.cluster,
      note: `${a.role === 'none' ? 'no Gloo Mesh' : a.role} · ${a.counts.releases} ${a.counts.releases === 1 ? 'release' : 'releases'}`,
      report: {
        results: a.objects.map((o) => o.result),
        errors: [...a.errors, ...unreadOf(a, true)],
        skipped: 0,
        notJudged: unreadOf(a, false),
      },
    })),
    ...run.failures.map((f) => ({
      name: f.source,
      note: 'could not be read',
      report: { results: [], errors: [f], skipped: 0 },
    })),
  ];
  return {
    title: 'gloo-guard fleet report',
    scope: `${columns.length === 1 ? '1 cluster' : `${columns.length} clusters`} audited`,
    columnNoun: 'cluster',
    generatedAt: now,
    version: version(),
    columns,
    crossCluster: run.cross,
  };
}

function render(run: AuditRun, format: OutputFormat, config: Config): string {
  const report = toReport(run);
  const clusters = run.audits.map((a) => ({ name: a.cluster, role: a.role, counts: a.counts }));
  switch (format) {
    case 'json':
      return renderJson(report, { clusters, crossCluster: run.cross, policyReports: run.reports });
    case 'sarif':
      return renderSarif(report, version(), catalogOf(config));
    case 'junit':
      return renderJunit(report);
    case 'html':
      return renderHtml(fleetPage(run, new Date()));
    case 'text': {
      const color = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
      const extra = [...run.cross.map((c) => `WARN ${c.message}`), ...run.reports];
      return `${clusterLines(run).join('\n')}\n\n${renderText(report, color)}${extra.length ? `${extra.join('\n')}\n` : ''}`;
    }
  }
}

/** Runs `gloo-guard audit`. */
export async function runAudit(args: string[]): Promise<number> {
  try {
    const { values: v, positionals } = parse(args, OPTIONS);
    if (v.help) {
      process.stdout.write(`${HELP}\n`);
      return 0;
    }
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0] ?? ''}"`);
    const format = outputFormat(v.output);
    const config = configFrom(v.config);
    const write = reportsApi(v);
    const kc = Kubeconfig.load(v.kubeconfig);
    const contexts = contextsOf(kc, v.context, v['all-contexts'], v.kubeconfig);
    const progress = v.quiet
      ? () => undefined
      : (s: string) => process.stderr.write(`gloo-guard audit: ${s}\n`);
    const run: AuditRun = { audits: [], failures: [], cross: [], reports: [] };
    for (const context of contexts) await auditContext(kc, context, config, write, progress, run);
    run.cross = crossClusterFindings(run.audits);
    process.stdout.write(render(run, format, config));
    return exitCode(toReport(run), config);
  } catch (err: unknown) {
    return reportFailure(err, HELP);
  }
}
