/** `--output json`: one object with violations, errors and a summary. */
import { allErrors, exempted, findings, summarize, type Report } from '../report.js';

/** Renders the report as JSON. */
export function renderJson(r: Report, extra: Record<string, unknown> = {}): string {
  const violations = findings(r).map((f) => ({
    policy: f.policy,
    action: f.action,
    severity: f.severity,
    message: f.message,
    path: f.path,
    source: f.source,
    object: f.object,
  }));
  const notes = r.results.flatMap((x) => x.notes);
  return `${JSON.stringify({ violations, exceptions: exempted(r), errors: allErrors(r), notes, notJudged: r.notJudged ?? [], summary: summarize(r), ...extra }, null, 2)}\n`;
}
