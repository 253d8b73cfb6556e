/** The CLI's report: what every output format presents. */
import type { Config } from '../config/types.js';
import { isDenied, type EvaluationResult, type Finding, type ExemptedFinding } from '../engine/evaluate.js';

/** An input that could not be judged (file, object, release). */
export interface ReportError {
  source: string;
  message: string;
}

/** Everything the CLI learned in one run. */
export interface Report {
  results: EvaluationResult[];
  errors: ReportError[];
  /** Inputs read but not judged (other charts, other kinds). */
  skipped: number;
  /** Of those, the ones gloo-guard knows but could not judge here, with why (an ApplicationSet, a chart in git). */
  notJudged?: ReportError[];
}

/** Totals for the summary line and the JSON `summary`. */
export interface Summary {
  objects: number;
  violations: number;
  denied: number;
  warned: number;
  exceptions: number;
  errors: number;
  skipped: number;
}

/** All findings of a report, in order. */
export function findings(r: Report): Finding[] {
  return r.results.flatMap((x) => x.findings);
}

/** All exempted findings of a report. */
export function exempted(r: Report): ExemptedFinding[] {
  return r.results.flatMap((x) => x.exempted);
}

/** All errors: unreadable inputs and policies that failed. */
export function allErrors(r: Report): ReportError[] {
  const policyErrors = r.results.flatMap((x) =>
    x.errors.map((e) => ({ source: e.object, message: e.message })),
  );
  return [...r.errors, ...policyErrors];
}

/** Counts what the report holds. */
export function summarize(r: Report): Summary {
  const f = findings(r);
  return {
    objects: r.results.length,
    violations: f.length,
    denied: f.filter((x) => x.action === 'deny').length,
    warned: f.filter((x) => x.action === 'warn').length,
    exceptions: exempted(r).length,
    errors: allErrors(r).length,
    skipped: r.skipped,
  };
}

/**
 * 2 when something could not be judged (an unreadable input or a policy that failed), 1 when the
 * webhook would refuse something (isDenied, the webhook's own rule), else 0. An error is 2 whatever
 * `onError` says: onError keeps the API server available, while in CI an error that passed would be
 * a silent pass; 2 is still a failure where onError: deny would have refused.
 */
export function exitCode(r: Report, config: Config): number {
  if (allErrors(r).length > 0) return 2;
  return r.results.some((x) => isDenied(x, config)) ? 1 : 0;
}
