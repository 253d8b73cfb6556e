/**
 * The figure tables of docs/reliability.md, rendered from the stored measurements in
 * docs/reliability-figures.json (written by scripts/measure-decode.ts). Pure, so a drift test can
 * hold the page to the file.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { format, resolveConfig } from 'prettier';

/** One case's figures: median time, peak RSS above the process's baseline, and what came of it. */
export interface DecodeFigure {
  ms: number;
  rssMiB: number;
  outcome: string;
}

/** The decoder measurements as stored. */
export interface DecodeFigures {
  commit: string;
  measuredAt: string;
  node: string;
  loadAverage: number[];
  runs: number;
  maxReleaseBytes: number;
  cases: Record<string, string>;
  after: Record<string, DecodeFigure>;
  before?: Record<string, DecodeFigure>;
}

/** The markers between which the generated tables sit. */
export const DECODE_START = '<!-- generated: decode figures (scripts/gen-reliability.ts) -->';
export const DECODE_END = '<!-- end of generated decode figures -->';

const cell = (f: DecodeFigure | undefined): string => (f ? `${f.ms} ms, ${f.rssMiB} MiB` : '–');

/** The decoder table, in Markdown, between its markers. */
export function decodeFiguresMarkdown(f: DecodeFigures): string {
  const rows = Object.entries(f.cases).map(([name, what]) => {
    const after = f.after[name];
    return `| ${name} | ${what} | ${cell(f.before?.[name])} | ${cell(after)} | ${after?.outcome ?? '–'} |`;
  });
  return [
    DECODE_START,
    '',
    `Measured on commit \`${f.commit}\` (${f.measuredAt} UTC, Node ${f.node}, load average ` +
      `${f.loadAverage.join(' / ')} on 2 cores), \`limits.maxReleaseBytes\` = ${f.maxReleaseBytes / (1024 * 1024)} MiB: ` +
      `the median of ${f.runs} decodes of \`data.release\` and the peak RSS above the process's own, each case ` +
      'in a fresh process. "Before" is the decoder of the commit before the change (see the text above).',
    '',
    '| case | payload | before | after | answer |',
    '| ---- | ------- | ------ | ----- | ------ |',
    ...rows,
    '',
    DECODE_END,
  ].join('\n');
}

/** The page with its generated section replaced by `section`; throws when the markers are missing. */
export function withSection(page: string, section: string): string {
  const start = page.indexOf(DECODE_START);
  const end = page.indexOf(DECODE_END);
  if (start < 0 || end < start) throw new Error('docs/reliability.md has no generated decode section');
  return page.slice(0, start) + section + page.slice(end + DECODE_END.length);
}

/** The page as it should read: its generated section rendered from the stored figures, as prettier lays it out. */
export async function reliabilityPage(page: string): Promise<string> {
  const file = resolve(import.meta.dirname, '../docs/reliability.md');
  const stored = JSON.parse(
    readFileSync(resolve(import.meta.dirname, '../docs/reliability-figures.json'), 'utf8'),
  ) as { decode: DecodeFigures };
  const options = (await resolveConfig(file)) ?? {};
  return format(withSection(page, decodeFiguresMarkdown(stored.decode)), { ...options, filepath: file });
}
