/**
 * Measures the release decoder on hostile and large payloads (issue 15 point 4) and stores the
 * figures, with the commit and the machine's load, in docs/reliability-figures.json, from which
 * scripts/gen-reliability.ts renders the tables of docs/reliability.md.
 *
 *   tsx scripts/measure-decode.ts                       # measure this checkout
 *   tsx scripts/measure-decode.ts --before /other/src   # also measure another checkout's src/ ("before")
 *
 * Each case runs in a fresh process (so its peak RSS is its own): the payload is built, RSS is
 * noted, then the decode runs `RUNS` times; the figures are the median time and the peak RSS
 * (Linux VmHWM, reset before decoding) above what the process held before decoding.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { gzipSync, constants as zc } from 'node:zlib';

const ROOT = resolve(import.meta.dirname, '..');
const OUT = resolve(ROOT, 'docs/reliability-figures.json');
const RUNS = 9;
const MAX_BYTES = 64 * 1024 * 1024;

/** The cases: what each payload is, as Helm's base64 text of gzip. */
const CASES: Record<string, { what: string; build: () => Buffer }> = {
  'depth-bomb': {
    what: '30 million `[` in a field no policy reads (about 30 KB of gzip)',
    build: () =>
      gzipSync(
        Buffer.concat([Buffer.from('{"name":"r","x":'), Buffer.alloc(30_000_000, '['), Buffer.from('}')]),
        { level: zc.Z_BEST_COMPRESSION },
      ),
  },
  'late-depth-bomb': {
    what: 'the same after 300 KiB of incompressible templates',
    build: () => lateDepthBomb(300 * 1024),
  },
  'late-depth-bomb-1mib': {
    what: 'the same after 1 MiB of incompressible templates',
    build: () => lateDepthBomb(1024 * 1024),
  },
  'late-depth-bomb-10mib': {
    what: 'the same after 10 MiB of incompressible templates',
    build: () => lateDepthBomb(10 * 1024 * 1024),
  },
  'size-bomb': {
    what: '1 GiB of `A` in a string, gzip trailer forged to say 0 bytes (about 1 MB of gzip)',
    build: () => {
      const gz = gzipSync(
        Buffer.concat([
          Buffer.from('{"name":"r","x":"'),
          Buffer.alloc(1024 * 1024 * 1024, 'A'),
          Buffer.from('"}'),
        ]),
        { level: zc.Z_BEST_COMPRESSION },
      );
      gz.writeUInt32LE(0, gz.length - 4);
      return gz;
    },
  },
  'release-1mib': {
    what: 'a valid release whose gzip is 1 MiB (incompressible templates, 40 KB of values)',
    build: () => {
      const values = Object.fromEntries(
        Array.from({ length: 1000 }, (_, i) => [`key${i}`, { enabled: i % 2 === 0, n: i }]),
      );
      const release = {
        name: 'r',
        namespace: 'gloo-mesh',
        version: 1,
        info: { status: 'pending-install' },
        chart: {
          metadata: { name: 'gloo-platform', version: '2.5.4' },
          templates: [{ name: 'templates/x.yaml', data: randomBytes(780_000).toString('base64') }],
          values,
        },
        config: values,
      };
      return gzipSync(JSON.stringify(release), { level: zc.Z_BEST_COMPRESSION });
    },
  },
  'release-small': {
    what: 'a valid release of about 20 KB (3 KB of gzip): the everyday path',
    build: () => {
      const values = Object.fromEntries(
        Array.from({ length: 600 }, (_, i) => [`key${i}`, { enabled: i % 2 === 0, n: i }]),
      );
      const release = {
        name: 'r',
        namespace: 'gloo-mesh',
        version: 1,
        info: { status: 'pending-install' },
        chart: { metadata: { name: 'gloo-platform', version: '2.5.4' }, values },
        config: { common: { cluster: 'c1' } },
      };
      return gzipSync(JSON.stringify(release), { level: zc.Z_BEST_COMPRESSION });
    },
  },
};

/** 30 million `[` in a field no policy reads, after `textBytes` of incompressible templates. */
function lateDepthBomb(textBytes: number): Buffer {
  return gzipSync(
    Buffer.concat([
      Buffer.from(
        `{"name":"r","t":"${randomBytes(Math.floor((textBytes * 3) / 4)).toString('base64')}","x":`,
      ),
      Buffer.alloc(30_000_000, '['),
      Buffer.from('}'),
    ]),
    { level: zc.Z_BEST_COMPRESSION },
  );
}

/** A memory figure of this process from /proc/self/status, in KiB. */
function statusKiB(field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
  return Number(m?.[1] ?? 0);
}

/** One case in this process: prints {ms, rssMiB, outcome} as JSON. */
async function child(src: string, file: string): Promise<void> {
  const mod = (await import(resolve(src, 'helm/release.ts'))) as {
    readReleaseSecretFields: (data: string, max: number) => unknown;
  };
  // Built by the parent: building a bomb costs more memory than reading it, and would hide the figure.
  const data = readFileSync(file, 'utf8');
  global.gc?.();
  // The peak is the kernel's high-water mark of this process, reset here (getrusage's maxRSS would
  // carry the parent's peak, which built the bombs, across fork and exec).
  writeFileSync('/proc/self/clear_refs', '5');
  const baseRss = statusKiB('VmRSS');
  const times: number[] = [];
  let outcome = 'read';
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    try {
      mod.readReleaseSecretFields(data, MAX_BYTES);
    } catch (err: unknown) {
      outcome = (err as Error).message;
    }
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const rssMiB = Math.max(0, statusKiB('VmHWM') - baseRss) / 1024;
  process.stdout.write(JSON.stringify({ ms: times[Math.floor(RUNS / 2)], rssMiB, outcome }));
}

/** data.release of each case as the API server sends it, in a file each. */
function payloadFiles(): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'gg-decode-'));
  return Object.fromEntries(
    Object.entries(CASES).map(([name, c]) => {
      const file = join(dir, `${name}.txt`);
      writeFileSync(file, Buffer.from(c.build().toString('base64')).toString('base64'));
      return [name, file];
    }),
  );
}

type Figures = Record<string, { ms: number; rssMiB: number; outcome: string }>;

function runCase(src: string, name: string, file: string): { ms: number; rssMiB: number; outcome: string } {
  const r = spawnSync(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', import.meta.filename, '--child', src, file],
    {
      cwd: ROOT,
      encoding: 'utf8',
      maxBuffer: 1 << 20,
    },
  );
  if (r.status !== 0) throw new Error(`${name}: ${r.stderr}`);
  const f = JSON.parse(r.stdout) as { ms: number; rssMiB: number; outcome: string };
  process.stderr.write(`${src} ${name}: ${JSON.stringify(f)}\n`);
  return { ms: Math.round(f.ms * 10) / 10, rssMiB: Math.round(f.rssMiB), outcome: f.outcome };
}

/** Each case on each checkout in turn, so a change in the machine's load falls on both alike. */
function measure(srcs: string[], files: Record<string, string>): Figures[] {
  const out: Figures[] = srcs.map(() => ({}));
  for (const name of Object.keys(CASES)) {
    srcs.forEach((src, i) => {
      (out[i] as Figures)[name] = runCase(src, name, files[name] as string);
    });
  }
  return out;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--child') return child(args[1] as string, args[2] as string);
  const beforeAt = args.indexOf('--before');
  const before = beforeAt >= 0 ? args[beforeAt + 1] : undefined;
  const files = payloadFiles();
  const [after, old] = measure(before ? [resolve(ROOT, 'src'), before] : [resolve(ROOT, 'src')], files);
  const measured = { after, ...(old ? { before: old } : {}) };
  const load = loadavg().map((l) => Math.round(l * 10) / 10);
  let previous: Record<string, unknown> = {};
  try {
    previous = JSON.parse(readFileSync(OUT, 'utf8')) as Record<string, unknown>;
  } catch {
    // The first measurement: no figures yet.
  }
  const figures = {
    ...previous,
    decode: {
      commit: execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim(),
      measuredAt: new Date().toISOString().slice(0, 16).replace('T', ' '),
      node: process.version,
      loadAverage: load,
      runs: RUNS,
      maxReleaseBytes: MAX_BYTES,
      cases: Object.fromEntries(Object.entries(CASES).map(([k, c]) => [k, c.what])),
      ...measured,
    },
  };
  writeFileSync(OUT, `${JSON.stringify(figures, null, 2)}\n`);
  process.stdout.write(`wrote ${OUT}\n`);
}

await main();
