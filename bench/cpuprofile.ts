/** Reads a V8 .cpuprofile (node --cpu-prof) and says where the time went: by function and by module. */

/** The parts of a V8 CPU profile node that are read here. */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

/** A V8 CPU profile as node --cpu-prof writes it. */
export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

/** Time spent in one place, in ms and as a share of the busy (non-idle) time. */
export interface Spent {
  name: string;
  ms: number;
  share: number;
}

/** Where a profile's time went. */
export interface ProfileSummary {
  totalMs: number;
  idleMs: number;
  busyMs: number;
  byModule: Spent[];
  byFunction: Spent[];
  /** Inclusive time (self plus callees) of the functions asked for. */
  inclusive: Spent[];
}

/** The module a call frame belongs to: an npm package, a gloo-guard directory, node internals or V8. */
export function moduleOf(url: string, functionName: string): string {
  if (url === '') {
    if (functionName === '(garbage collector)') return 'V8 garbage collector';
    if (functionName === '(idle)') return 'idle';
    if (functionName === '(program)') return 'V8/native (program)';
    return `native: ${functionName || '(anonymous)'}`;
  }
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg) return `npm: ${pkg[1]}`;
  const ours = /(?:bench-dist|dist|src)\/([^/]+)\//.exec(url);
  if (ours && !url.startsWith('node:')) return `gloo-guard: src/${ours[1]}`;
  const internal = /^node:(?:internal\/)?([^/]+)/.exec(url);
  if (internal) return `node: ${internal[1]}`;
  return url.replace(/^file:\/\//, '');
}

function shortUrl(url: string): string {
  return url.replace(/^file:\/\/.*?(node_modules\/|bench-dist\/)/, '$1').replace(/^node:internal\//, 'node:');
}

function top(map: Map<string, number>, busyMs: number, n: number): Spent[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, ms]) => ({
      name,
      ms: Math.round(ms * 10) / 10,
      share: Math.round((ms / busyMs) * 1000) / 1000,
    }));
}

/** Self time of each node in ms, from samples and time deltas (or hit counts when they are missing). */
function selfTimes(p: CpuProfile): Map<number, number> {
  const self = new Map<number, number>();
  if (p.samples && p.timeDeltas && p.samples.length === p.timeDeltas.length) {
    // timeDeltas[i] is the time before sample i; the time after it belongs to it, so shift by one.
    for (let i = 0; i < p.samples.length; i++) {
      const id = p.samples[i] ?? 0;
      const dt = (p.timeDeltas[i + 1] ?? 0) / 1000;
      self.set(id, (self.get(id) ?? 0) + Math.max(0, dt));
    }
    return self;
  }
  const total = (p.endTime - p.startTime) / 1000;
  const hits = p.nodes.reduce((a, n) => a + (n.hitCount ?? 0), 0) || 1;
  for (const n of p.nodes) self.set(n.id, ((n.hitCount ?? 0) / hits) * total);
  return self;
}

/** Summarises a profile; `inclusiveOf` names functions whose time with their callees is wanted. */
export function summarizeProfile(p: CpuProfile, inclusiveOf: readonly string[] = [], n = 25): ProfileSummary {
  const self = selfTimes(p);
  const byId = new Map(p.nodes.map((node) => [node.id, node]));
  const byModule = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let idleMs = 0;
  let totalMs = 0;
  for (const node of p.nodes) {
    const ms = self.get(node.id) ?? 0;
    totalMs += ms;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') {
      idleMs += ms;
      continue;
    }
    const mod = moduleOf(url, functionName);
    byModule.set(mod, (byModule.get(mod) ?? 0) + ms);
    const fn = `${functionName || '(anonymous)'} ${url ? `${shortUrl(url)}:${lineNumber + 1}` : ''}`.trim();
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + ms);
  }
  const busyMs = Math.max(1e-9, totalMs - idleMs);
  // Inclusive time: a node's self time plus its subtree's, counted once per matching root.
  const inclusive = new Map<string, number>();
  const subtree = (id: number, depth: number): number => {
    const node = byId.get(id);
    if (!node || depth > 2000) return 0;
    return (self.get(id) ?? 0) + (node.children ?? []).reduce((a, c) => a + subtree(c, depth + 1), 0);
  };
  const walk = (id: number, inside: Set<string>, depth: number): void => {
    const node = byId.get(id);
    if (!node || depth > 2000) return;
    const name = node.callFrame.functionName;
    let next = inside;
    if (inclusiveOf.includes(name) && !inside.has(name)) {
      inclusive.set(name, (inclusive.get(name) ?? 0) + subtree(id, 0));
      next = new Set(inside).add(name);
    }
    for (const c of node.children ?? []) walk(c, next, depth + 1);
  };
  const root = p.nodes[0];
  if (root) walk(root.id, new Set(), 0);
  return {
    totalMs: Math.round(totalMs),
    idleMs: Math.round(idleMs),
    busyMs: Math.round(busyMs),
    byModule: top(byModule, busyMs, n),
    byFunction: top(byFunction, busyMs, n),
    inclusive: top(inclusive, busyMs, inclusiveOf.length),
  };
}

/** The summary as Markdown tables. */
export function profileMarkdown(title: string, s: ProfileSummary): string {
  const table = (head: string, rows: Spent[]): string[] => [
    `| ${head} | ms | share of busy |`,
    '|---|--:|--:|',
    ...rows.map((r) => `| \`${r.name.replace(/\|/g, '\\|')}\` | ${r.ms} | ${(r.share * 100).toFixed(1)}% |`),
  ];
  return [
    `### ${title}`,
    '',
    `busy ${s.busyMs} ms of ${s.totalMs} ms profiled (idle ${s.idleMs} ms)`,
    '',
    ...table('module (self time)', s.byModule),
    '',
    ...table('function (self time)', s.byFunction),
    ...(s.inclusive.length > 0 ? ['', ...table('function (with callees)', s.inclusive)] : []),
    '',
  ].join('\n');
}
