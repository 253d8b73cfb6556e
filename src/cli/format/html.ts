/**
 * `--output html`: one self-contained page (no network: inline style and script, a CSP that forbids
 * anything else) for people who do not read terminals. A summary to read in ten seconds, a matrix of
 * columns (clusters, or the checked files) by policy with counts, each count opening its findings
 * with their fixes; print-friendly (every finding printed open).
 */
import { POLICIES } from '../../policies/index.js';
import type { Finding } from '../../engine/evaluate.js';
import { allErrors, exempted, findings, summarize, type Report, type Summary } from '../report.js';

/** One column of the matrix: a cluster of the audit, or the files of a check. */
export interface HtmlColumn {
  name: string;
  /** A few words under the name: the cluster's role, or why it could not be read. */
  note: string;
  report: Report;
}

/** Everything the page shows. */
export interface HtmlPage {
  title: string;
  /** What was judged, in one line: `3 clusters audited`, `2 files checked`. */
  scope: string;
  /** What a column is, for sentences: `cluster`, `input`. */
  columnNoun: string;
  generatedAt: Date;
  version: string;
  columns: HtmlColumn[];
  /** Findings about the set of columns (cross-cluster), shown under the matrix. */
  crossCluster: Array<{ message: string; clusters: string[] }>;
}

const ESCAPES: Record<string, string> = {
  '<': '&lt;',
  '>': '&gt;',
  '&': '&amp;',
  '"': '&quot;',
  "'": '&#39;',
};

function esc(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ESCAPES[c] ?? c);
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** Ids safe for `id` and `href`, unique per column and policy. */
function cellId(col: number, policy: string): string {
  return `c${col}-${policy.replace(/[^a-z0-9-]/gi, '_')}`;
}

interface Cell {
  denied: Finding[];
  warned: Finding[];
  exempted: ReturnType<typeof exempted>;
}

function cellOf(report: Report, policy: string): Cell {
  const f = findings(report).filter((x) => x.policy === policy);
  return {
    denied: f.filter((x) => x.action === 'deny'),
    warned: f.filter((x) => x.action === 'warn'),
    exempted: exempted(report).filter((x) => x.policy === policy),
  };
}

/** Policies in catalog order, then any other id a finding carries (a user rule). */
function policyRows(columns: HtmlColumn[]): Array<{ id: string; title: string; severity: string }> {
  const rows = POLICIES.map((p) => ({ id: p.id, title: p.title, severity: p.severity }));
  const known = new Set(rows.map((r) => r.id));
  for (const c of columns)
    for (const f of findings(c.report))
      if (!known.has(f.policy)) {
        known.add(f.policy);
        rows.push({ id: f.policy, title: f.policy, severity: f.severity });
      }
  return rows;
}

function totals(columns: HtmlColumn[]): Summary {
  const zero: Summary = {
    objects: 0,
    violations: 0,
    denied: 0,
    warned: 0,
    exceptions: 0,
    errors: 0,
    skipped: 0,
  };
  return columns
    .map((c) => summarize(c.report))
    .reduce((a, s) => {
      for (const k of Object.keys(a) as Array<keyof Summary>) a[k] += s[k];
      return a;
    }, zero);
}

function verdict(page: HtmlPage, t: Summary): { cls: string; text: string } {
  const columns = page.columns;
  const denying = columns.filter((c) => summarize(c.report).denied > 0).length;
  if (t.errors > 0 && t.denied === 0)
    return { cls: 'error', text: `${plural(t.errors, 'input')} could not be judged` };
  if (denying > 0)
    return {
      cls: 'deny',
      text: `${denying} of ${plural(columns.length, page.columnNoun)} would be refused: ${plural(t.denied, 'denial')}`,
    };
  if (t.warned > 0) return { cls: 'warn', text: `Nothing would be refused; ${plural(t.warned, 'warning')}` };
  return { cls: 'pass', text: 'Nothing would be refused, nothing to warn about' };
}

function summarySection(page: HtmlPage): string {
  const t = totals(page.columns);
  const v = verdict(page, t);
  const tile = (n: number, label: string, cls: string): string =>
    `<div class="tile ${n > 0 ? cls : 'zero'}"><span class="n">${n}</span> ${esc(label)}</div>`;
  return `<section class="summary ${v.cls}" aria-label="Summary">
<p class="verdict">${esc(v.text)}.</p>
<p>${esc(page.scope)}; ${plural(t.objects, 'object')} judged${t.skipped ? `, ${t.skipped} not judged (other charts or kinds)` : ''}.</p>
<div class="tiles">${tile(t.denied, 'denied', 'deny')}${tile(t.warned, 'warnings', 'warn')}${tile(t.exceptions, 'covered by exceptions', 'skip')}${tile(t.errors, 'errors', 'error')}${tile(page.crossCluster.length, 'cross-cluster', 'warn')}</div>
</section>`;
}

/** A column that judged nothing because its input could not be read: no tick, it proves nothing. */
function unread(c: HtmlColumn): boolean {
  return c.report.results.length === 0 && allErrors(c.report).length > 0;
}

function cellHtml(cell: Cell, col: number, colName: string, policy: string): string {
  const n = cell.denied.length + cell.warned.length + cell.exempted.length;
  if (n === 0)
    return `<td class="ok"><span aria-label="${esc(`${policy} in ${colName}: nothing found`)}">✓</span></td>`;
  const parts = [
    cell.denied.length ? `<span class="deny">${cell.denied.length} denied</span>` : '',
    cell.warned.length ? `<span class="warn">${cell.warned.length} warn</span>` : '',
    cell.exempted.length ? `<span class="skip">${cell.exempted.length} exempt</span>` : '',
  ].filter(Boolean);
  const label = `${policy} in ${colName}: ${cell.denied.length} denied, ${cell.warned.length} warnings, ${cell.exempted.length} exempted; show findings`;
  const cls = cell.denied.length ? 'deny' : cell.warned.length ? 'warn' : 'skip';
  return `<td class="${cls}"><a href="#${cellId(col, policy)}" aria-label="${esc(label)}">${parts.join(' ')}</a></td>`;
}

function matrixSection(page: HtmlPage, rows: ReturnType<typeof policyRows>): string {
  const head = page.columns
    .map((c) => `<th scope="col">${esc(c.name)}<span class="note">${esc(c.note)}</span></th>`)
    .join('');
  const body = rows
    .map((r) => {
      const cells = page.columns
        .map((c, i) =>
          unread(c)
            ? `<td class="na"><span aria-label="${esc(`${r.id} in ${c.name}: not judged`)}">not judged</span></td>`
            : cellHtml(cellOf(c.report, r.id), i, c.name, r.id),
        )
        .join('');
      return `<tr><th scope="row"><code>${esc(r.id)}</code><span class="note">${esc(r.title)} · ${esc(r.severity)}</span></th>${cells}</tr>`;
    })
    .join('\n');
  return `<section aria-label="Policies by ${page.columns.length > 1 ? 'cluster' : 'input'}">
<h2>Policies by ${page.columns.length > 1 ? 'cluster' : 'input'}</h2>
<div class="scroll"><table class="matrix">
<thead><tr><th scope="col">Policy</th>${head}</tr></thead>
<tbody>
${body}
</tbody></table></div>
</section>`;
}

function findingHtml(f: Finding): string {
  const what = f.message.replace(/ -> .*$/s, '');
  return `<li class="${f.action}"><span class="tag">${f.action === 'deny' ? 'DENY' : 'WARN'}</span> <strong>${esc(f.object)}</strong>
<div class="what">${esc(what)}</div>
<div class="fix"><span class="label">Fix:</span> ${esc(f.fix)}</div>
<div class="where">${esc(f.path)} · ${esc(f.source)}</div></li>`;
}

function detailsSection(page: HtmlPage, rows: ReturnType<typeof policyRows>): string {
  const blocks: string[] = [];
  page.columns.forEach((c, i) => {
    for (const r of rows) {
      const cell = cellOf(c.report, r.id);
      const items = [
        ...cell.denied.map(findingHtml),
        ...cell.warned.map(findingHtml),
        ...cell.exempted.map(
          (e) =>
            `<li class="skip"><span class="tag">EXEMPT</span> <strong>${esc(e.object)}</strong><div class="what">${esc(e.path)}: ${esc(e.reason)}</div></li>`,
        ),
      ];
      if (items.length === 0) continue;
      blocks.push(`<details id="${cellId(i, r.id)}"><summary><code>${esc(r.id)}</code> in ${esc(c.name)}: ${plural(items.length, 'finding')}</summary>
<ul class="findings">${items.join('\n')}</ul></details>`);
    }
  });
  if (blocks.length === 0) return '';
  return `<section aria-label="Findings"><h2>Findings and fixes</h2>\n${blocks.join('\n')}\n</section>`;
}

function problemsSection(page: HtmlPage): string {
  const errors = page.columns.flatMap((c) =>
    allErrors(c.report).map(
      (e) =>
        `<li class="error"><strong>${esc(c.name)}</strong> ${e.source === c.name ? '' : `${esc(e.source)}: `}${esc(e.message)}</li>`,
    ),
  );
  const cross = page.crossCluster.map(
    (x) => `<li class="warn"><strong>${esc(x.clusters.join(', '))}</strong> ${esc(x.message)}</li>`,
  );
  const notes = page.columns.flatMap((c) =>
    c.report.results.flatMap((r) => r.notes.map((n) => `<li><strong>${esc(c.name)}</strong> ${esc(n)}</li>`)),
  );
  const part = (title: string, items: string[]): string =>
    items.length ? `<h2>${esc(title)}</h2><ul class="findings">${items.join('\n')}</ul>` : '';
  const html = part('Across clusters', cross) + part('Could not be judged', errors) + part('Notes', notes);
  return html ? `<section aria-label="Other findings">${html}</section>` : '';
}

const STYLE = `
:root{--deny:#b3261e;--deny-bg:#fde7e5;--warn:#8a5a00;--warn-bg:#fff3d6;--skip:#555;--skip-bg:#eee;--ok:#1e6b34;--ok-bg:#e6f4ea;--line:#d0d4da}
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:1200px;padding:24px;color:#1b1f24;background:#fff}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 10px}
.meta{color:#555;margin:0 0 18px}
.summary{border:1px solid var(--line);border-left:8px solid var(--ok);border-radius:6px;padding:14px 18px}
.summary.deny{border-left-color:var(--deny)}.summary.warn{border-left-color:#d89b00}.summary.error{border-left-color:var(--deny)}
.verdict{font-size:20px;font-weight:650;margin:0 0 4px}.summary p{margin:0 0 10px}
.tiles{display:flex;flex-wrap:wrap;gap:10px}
.tile{border-radius:6px;padding:6px 12px;background:var(--skip-bg)}.tile .n{font-weight:700;font-size:18px}
.tile.deny,.tile.error{background:var(--deny-bg);color:var(--deny)}.tile.warn{background:var(--warn-bg);color:var(--warn)}.tile.zero{color:#777}
.scroll{overflow-x:auto}
table.matrix{border-collapse:collapse;width:100%}
.matrix th,.matrix td{border:1px solid var(--line);padding:6px 10px;text-align:left;vertical-align:top}
.matrix thead th{background:#f5f6f8}
.note{display:block;font-weight:400;font-size:12px;color:#555}
td.ok{background:var(--ok-bg);color:var(--ok);text-align:center}td.na{color:#777;text-align:center;font-size:13px}
td.deny{background:var(--deny-bg)}td.warn{background:var(--warn-bg)}td.skip{background:var(--skip-bg)}
td a{color:inherit;font-weight:600;text-decoration:none;display:block}td a:hover,td a:focus{text-decoration:underline}
span.deny{color:var(--deny)}span.warn{color:var(--warn)}span.skip{color:var(--skip)}
details{border:1px solid var(--line);border-radius:6px;margin:8px 0;padding:6px 12px}
details:target{outline:3px solid #2f6fde}
summary{cursor:pointer;font-weight:600}
ul.findings{list-style:none;margin:8px 0;padding:0}
ul.findings li{border-top:1px solid #eee;padding:8px 0}
.tag{font-size:12px;font-weight:700;border-radius:4px;padding:1px 6px;background:var(--skip-bg)}
li.deny .tag{background:var(--deny);color:#fff}li.warn .tag{background:#d89b00;color:#fff}li.error .tag{background:var(--deny);color:#fff}
.fix{margin-top:2px}.fix .label{font-weight:700;color:var(--ok)}
.where{font-size:12px;color:#555;font-family:ui-monospace,monospace;word-break:break-all}
code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:13px}
footer{margin-top:32px;color:#777;font-size:12px}
@media print{
  body{max-width:none;padding:0;font-size:11pt}
  .scroll{overflow:visible}
  details{break-inside:avoid;border:none;padding:0}
  details::details-content{content-visibility:visible;display:block}
  summary{list-style:none}
  details:target{outline:none}
  tr,li{break-inside:avoid}
  .summary,td,.tile,.tag{print-color-adjust:exact;-webkit-print-color-adjust:exact}
}`;

/** Opens the findings a link points at (details cannot be opened by CSS), and all of them for print. */
const SCRIPT = `
function openTarget(){var d=document.getElementById(decodeURIComponent(location.hash.slice(1)));if(d&&d.tagName==='DETAILS'){d.open=true;}}
window.addEventListener('hashchange',openTarget);openTarget();
window.addEventListener('beforeprint',function(){document.querySelectorAll('details').forEach(function(d){d.open=true;});});`;

/** Renders the page: one HTML file that needs nothing else. */
export function renderHtml(page: HtmlPage): string {
  const rows = policyRows(page.columns);
  const when = page.generatedAt.toISOString().replace('T', ' ').slice(0, 16);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>${esc(page.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>${esc(page.title)}</h1>
<p class="meta">${esc(page.scope)} · ${esc(when)} UTC · gloo-guard ${esc(page.version)}</p>
${summarySection(page)}
${matrixSection(page, rows)}
${detailsSection(page, rows)}
${problemsSection(page)}
</main>
<footer>Each policy, what it judges and how to fix it: <code>gloo-guard policies</code>. Exceptions go in the gloo-guard config.</footer>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
