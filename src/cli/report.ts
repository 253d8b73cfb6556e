/** The CLI's report: what every output format presents. */
import type { EvaluationResult, Finding, ExemptedFinding } from '../engine/evaluate.js';

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

/** 2 for bad input, 1 when something would be denied, else 0. */
export function exitCode(r: Report): number {
  if (allErrors(r).length > 0) return 2;
  return findings(r).some((f) => f.action === 'deny') ? 1 : 0;
}
