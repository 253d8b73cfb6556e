/**
 * A hand-written SVG chart of latency against load: one panel per review, throughput on x, latency on
 * a log scale on y, one line per server (p99 solid, p50 dashed). No browser, no dependency.
 */

/** One measured point: throughput reached and the latencies at it. */
export interface ChartPoint {
  rps: number;
  p50: number;
  p99: number;
  /** Shown next to the point, e.g. the number of connections. */
  label?: string;
}

/** One server's curve in a panel. */
export interface ChartSeries {
  name: string;
  color: string;
  points: ChartPoint[];
}

/** One panel: a review kind. */
export interface ChartPanel {
  title: string;
  series: ChartSeries[];
  /** A line of small print under the title (e.g. why a server is missing). */
  note?: string;
}

const PANEL_W = 480;
const PANEL_H = 320;
const MARGIN = { left: 64, right: 20, top: 46, bottom: 46 };
const COLUMNS = 2;

/** Escapes text for SVG. */
export function xmlEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A compact number: 950, 1.2k, 12k. */
export function compact(n: number): string {
  if (n >= 10_000) return `${Math.round(n / 1000)}k`;
  if (n >= 1000) return `${(n / 1000).toFixed(1).replace(/\.0$/, '')}k`;
  if (n >= 10) return String(Math.round(n));
  if (n >= 1) return n.toFixed(1).replace(/\.0$/, '');
  return n.toPrecision(1);
}

/** A round upper bound for a linear axis (1, 2, 2.5 or 5 times a power of ten). */
export function niceCeil(max: number): number {
  if (!(max > 0)) return 1;
  const pow = 10 ** Math.floor(Math.log10(max));
  const step = [1, 2, 2.5, 5, 10].find((s) => s * pow >= max) ?? 10;
  return step * pow;
}

/** Log-axis decades covering [min, max]. */
export function logRange(min: number, max: number): [number, number] {
  const lo = Math.floor(Math.log10(Math.max(min, 0.01)));
  const hi = Math.ceil(Math.log10(Math.max(max, min * 10, 0.1)));
  return [lo, hi === lo ? lo + 1 : hi];
}

function finite(values: number[]): number[] {
  return values.filter((v) => Number.isFinite(v) && v > 0);
}

function axes(xMax: number, decades: [number, number], w: number, h: number): string[] {
  const out: string[] = [];
  for (let i = 0; i <= 5; i++) {
    const x = (w * i) / 5;
    out.push(`<line x1="${x}" y1="0" x2="${x}" y2="${h}" class="grid"/>`);
    out.push(
      `<text x="${x}" y="${h + 16}" class="tick" text-anchor="middle">${compact((xMax * i) / 5)}</text>`,
    );
  }
  const [lo, hi] = decades;
  for (let d = lo; d <= hi; d++) {
    for (const m of d < hi ? [1, 2, 5] : [1]) {
      const v = m * 10 ** d;
      const y = h - ((Math.log10(v) - lo) / (hi - lo)) * h;
      out.push(
        `<line x1="0" y1="${y.toFixed(1)}" x2="${w}" y2="${y.toFixed(1)}" class="${m === 1 ? 'grid' : 'minor'}"/>`,
      );
      out.push(`<text x="-6" y="${(y + 4).toFixed(1)}" class="tick" text-anchor="end">${compact(v)}</text>`);
    }
  }
  out.push(`<rect x="0" y="0" width="${w}" height="${h}" class="frame"/>`);
  out.push(
    `<text x="${w / 2}" y="${h + 34}" class="axis" text-anchor="middle">throughput (reviews/s)</text>`,
  );
  out.push(
    `<text transform="translate(-46 ${h / 2}) rotate(-90)" class="axis" text-anchor="middle">latency (ms, log)</text>`,
  );
  return out;
}

function line(points: Array<[number, number]>, color: string, dashed: boolean): string {
  const d = points.map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${x.toFixed(1)},${y.toFixed(1)}`).join(' ');
  return `<path d="${d}" fill="none" stroke="${color}" stroke-width="${dashed ? 1.2 : 2}"${dashed ? ' stroke-dasharray="4 3"' : ''}/>`;
}

function panel(p: ChartPanel, index: number): string {
  const col = index % COLUMNS;
  const row = Math.floor(index / COLUMNS);
  const w = PANEL_W - MARGIN.left - MARGIN.right;
  const h = PANEL_H - MARGIN.top - MARGIN.bottom;
  const all = p.series.flatMap((s) => s.points);
  const xMax = niceCeil(Math.max(0, ...finite(all.map((pt) => pt.rps))) * 1.05);
  const ys = finite(all.flatMap((pt) => [pt.p50, pt.p99]));
  const decades = logRange(ys.length > 0 ? Math.min(...ys) : 0.1, ys.length > 0 ? Math.max(...ys) : 10);
  const sx = (v: number): number => (Math.max(0, v) / xMax) * w;
  const sy = (v: number): number =>
    h - ((Math.log10(Math.max(v, 10 ** decades[0])) - decades[0]) / (decades[1] - decades[0])) * h;
  const parts = [
    `<g transform="translate(${col * PANEL_W + MARGIN.left} ${row * PANEL_H + MARGIN.top + 54})">`,
    `<text x="0" y="-26" class="title">${xmlEscape(p.title)}</text>`,
    ...(p.note ? [`<text x="0" y="-10" class="note">${xmlEscape(p.note)}</text>`] : []),
    ...axes(xMax, decades, w, h),
  ];
  for (const s of p.series) {
    const pts = s.points.filter((pt) => Number.isFinite(pt.rps) && pt.rps > 0);
    if (pts.length === 0) continue;
    parts.push(
      line(
        pts.map((pt) => [sx(pt.rps), sy(pt.p50)]),
        s.color,
        true,
      ),
    );
    parts.push(
      line(
        pts.map((pt) => [sx(pt.rps), sy(pt.p99)]),
        s.color,
        false,
      ),
    );
    for (const pt of pts) {
      parts.push(
        `<circle cx="${sx(pt.rps).toFixed(1)}" cy="${sy(pt.p99).toFixed(1)}" r="3" fill="${s.color}"/>`,
      );
      if (pt.label !== undefined) {
        parts.push(
          `<text x="${(sx(pt.rps) + 4).toFixed(1)}" y="${(sy(pt.p99) - 5).toFixed(1)}" class="label" fill="${s.color}">${xmlEscape(pt.label)}</text>`,
        );
      }
    }
  }
  parts.push('</g>');
  return parts.join('\n');
}

/** Renders the panels as one SVG document. */
export function renderLatencyChart(title: string, subtitle: string, panels: readonly ChartPanel[]): string {
  const rows = Math.max(1, Math.ceil(panels.length / COLUMNS));
  const width = PANEL_W * COLUMNS;
  const height = rows * PANEL_H + 84;
  const names = [
    ...new Map(panels.flatMap((p) => p.series.map((s) => [s.name, s.color] as const))).entries(),
  ];
  const legend = names
    .map(
      ([name, color], i) =>
        `<g transform="translate(${MARGIN.left + i * 150} 44)"><line x1="0" y1="-4" x2="22" y2="-4" stroke="${color}" stroke-width="2"/><text x="28" y="0" class="legend">${xmlEscape(name)}</text></g>`,
    )
    .join('\n');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">`,
    '<style>',
    '.grid{stroke:#ddd;stroke-width:1}.minor{stroke:#f0f0f0;stroke-width:1}.frame{fill:none;stroke:#999}',
    '.tick{font-size:10px;fill:#555}.axis{font-size:11px;fill:#333}.title{font-size:14px;font-weight:bold;fill:#222}',
    '.note{font-size:10px;fill:#777}.label{font-size:9px}.legend{font-size:12px;fill:#222}.head{font-size:16px;font-weight:bold}.sub{font-size:11px;fill:#555}',
    '</style>',
    '<rect width="100%" height="100%" fill="#fff"/>',
    `<text x="${MARGIN.left}" y="20" class="head">${xmlEscape(title)}</text>`,
    `<text x="${width - MARGIN.right}" y="20" class="sub" text-anchor="end">${xmlEscape(subtitle)}</text>`,
    legend,
    `<text x="${width - MARGIN.right}" y="44" class="sub" text-anchor="end">solid: p99, dashed: p50; labels: connections</text>`,
    ...panels.map((p, i) => panel(p, i)),
    '</svg>',
    '',
  ].join('\n');
}
