/** `--output text`: grouped by object, each violation with its fix; coloured on a terminal. */
import { allErrors, summarize, type Report } from '../report.js';

interface Paint {
  red(s: string): string;
  yellow(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

function paint(color: boolean): Paint {
  const wrap = (code: number) => (s: string) => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
  return { red: wrap(31), yellow: wrap(33), dim: wrap(2), bold: wrap(1) };
}

/** Renders the report for people. */
export function renderText(r: Report, color: boolean): string {
  const p = paint(color);
  const lines: string[] = [];
  for (const res of r.results) {
    if (res.findings.length === 0 && res.notes.length === 0) continue;
    lines.push(p.bold(res.object) + p.dim(`  (${res.findings[0]?.source ?? ''})`));
    for (const f of res.findings) {
      const tag = f.action === 'deny' ? p.red('DENY') : p.yellow('WARN');
      lines.push(`  ${tag} ${f.message}`);
    }
    for (const n of res.notes) lines.push(`  ${p.dim('NOTE')} ${n}`);
    lines.push('');
  }
  for (const n of r.notJudged ?? []) lines.push(`${p.yellow('NOT JUDGED')} ${n.source}: ${n.message}`);
  for (const e of allErrors(r)) lines.push(`${p.red('ERROR')} ${e.source}: ${e.message}`);
  const s = summarize(r);
  lines.push(
    `${s.objects} judged, ${s.denied} denied, ${s.warned} warnings, ${s.exceptions} covered by exceptions, ${s.errors} errors, ${s.skipped} not judged`,
  );
  return `${lines.join('\n')}\n`;
}
