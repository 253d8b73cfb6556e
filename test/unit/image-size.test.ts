// npm run bench:image without its npm ci: the Dockerfile reader on the real Dockerfile and on broken
// ones, the measurement of an installed tree, and the report's Markdown.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerfileShapeError, readImagePlan } from '../../bench/dockerfile.js';
import { renderImage, type ImageResults } from '../../bench/image-report.js';
import { declarations, footprint, packageSizes } from '../../bench/image-size.js';

const ROOT = resolve(import.meta.dirname, '../..');
const DOCKERFILE = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');

/** The reader's error for a Dockerfile, or undefined when it reads. */
function shapeError(text: string): string | undefined {
  try {
    readImagePlan(text);
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(DockerfileShapeError);
    return (err as Error).message;
  }
}

describe('the Dockerfile reader of bench:image', () => {
  it('when it reads the real Dockerfile, then it finds the deps npm ci, the build command and the three runtime copies', () => {
    const plan = readImagePlan(DOCKERFILE);
    expect(plan.deps.install).toEqual([
      'npm',
      'ci',
      '--omit=dev',
      '--ignore-scripts',
      '--no-audit',
      '--no-fund',
    ]);
    expect(plan.deps.contextFiles).toEqual(['package.json', 'package-lock.json']);
    expect(plan.build.name).toBe('build');
    expect(plan.build.install.slice(0, 2)).toEqual(['npm', 'ci']);
    expect(plan.build.commands).toEqual([['npm', 'run', 'build']]);
    expect(plan.build.contextFiles).toEqual(
      expect.arrayContaining(['package.json', 'package-lock.json', 'tsconfig.build.json', 'src']),
    );
    expect(plan.copies.map((c) => [c.stage, c.sourceInStage, c.target])).toEqual([
      ['deps', 'package.json', '/app/package.json'],
      ['deps', 'node_modules', '/app/node_modules'],
      ['build', 'dist', '/app/dist'],
    ]);
    expect(plan.base).toMatch(/^gcr\.io\/distroless\/nodejs\d+-debian\d+:nonroot@sha256:[0-9a-f]{64}$/);
  });

  it.each([
    [
      'the deps stage is renamed',
      (t: string) => t.replace(/ AS deps$/m, ' AS prod'),
      /no stage named "deps"/,
    ],
    [
      'the deps install loses --omit=dev',
      (t: string) => t.replace('npm ci --omit=dev', 'npm ci'),
      /stage "deps" runs npm ci without --omit=dev/,
    ],
    [
      'a stage needs a shell',
      (t: string) => t.replace('RUN npm run build', 'RUN npm run build && rm -rf dist/test'),
      /stage "build" runs "npm run build && rm -rf dist\/test", which needs a shell/,
    ],
    [
      'the runtime stage copies from the context',
      (t: string) => t.replace('COPY --from=build --chown=0:0 /src/dist ./dist', 'COPY dist ./dist'),
      /the runtime stage copies from the build context: "COPY dist \.\/dist"/,
    ],
    [
      'a runtime copy comes from outside its stage',
      (t: string) => t.replace('/src/dist ./dist', '/opt/dist ./dist'),
      /copies from outside stage build's WORKDIR \/src/,
    ],
    [
      'the runtime stage runs a command',
      (t: string) => t.replace('USER 65532:65532', 'RUN rm -rf /tmp'),
      /runtime stage has RUN "rm -rf \/tmp"/,
    ],
    [
      'the build runs something else',
      (t: string) => t.replace('RUN npm run build', 'RUN npx tsc'),
      /only npm run SCRIPT follows npm ci/,
    ],
  ])('when %s, then it refuses with one line naming the problem', (_, breakIt, message) => {
    const broken = breakIt(DOCKERFILE);
    expect(broken).not.toBe(DOCKERFILE);
    const error = shapeError(broken);
    expect(error).toMatch(message);
    expect(error).toMatch(/^Dockerfile: /);
    expect(error).not.toContain('\n');
  });

  it('when the file has one stage, then it refuses', () => {
    expect(shapeError('FROM node:26\nWORKDIR /app\nRUN npm ci\n')).toMatch(/found 1 stage\(s\)/);
  });
});

describe('the measurement of an installed tree', () => {
  let app = '';
  const write = (path: string, bytes: number): void => {
    mkdirSync(join(app, path, '..'), { recursive: true });
    writeFileSync(join(app, path), 'x'.repeat(bytes));
  };

  beforeAll(() => {
    app = mkdtempSync(join(tmpdir(), 'gloo-guard-image-test-'));
    // a (direct) needs b and c; d (direct) needs b too and its own nested c@2; the hidden lockfile says so.
    write('node_modules/a/index.js', 1000);
    write('node_modules/a/index.d.ts', 300);
    write('node_modules/b/index.js', 200);
    write('node_modules/c/index.js', 5000);
    write('node_modules/d/index.js', 100);
    write('node_modules/d/node_modules/c/index.js', 700);
    write('node_modules/@types/e/index.js', 50);
    const packages = {
      'node_modules/a': { version: '1.0.0', dependencies: { b: '1', c: '1', '@types/e': '1' } },
      'node_modules/b': { version: '1.0.0' },
      'node_modules/c': { version: '1.0.0' },
      'node_modules/d': { version: '1.0.0', dependencies: { b: '1', c: '2' } },
      'node_modules/d/node_modules/c': { version: '2.0.0' },
      'node_modules/@types/e': { version: '1.0.0' },
    };
    writeFileSync(join(app, 'node_modules/.package-lock.json'), JSON.stringify({ packages }));
  });

  afterAll(() => rmSync(app, { recursive: true, force: true }));

  it('when a tree is measured, then files and apparent bytes add up and disk use is whole blocks', () => {
    const f = footprint(join(app, 'node_modules/d'));
    expect(f.files).toBe(2);
    expect(f.apparentBytes).toBe(800);
    expect(f.diskBytes % 512).toBe(0);
    expect(f.diskBytes).toBeGreaterThanOrEqual(f.apparentBytes);
  });

  it('when packages are sized, then nested node_modules count apart, the lookup finds the nested copy, and what only one dependency pulls in is its saving', () => {
    const { packages, directDependencies } = packageSizes(app, ['a', 'd']);
    expect(packages.count).toBe(6);
    expect(packages.largest.map((p) => [p.path, p.apparentBytes, p.requiredBy])).toEqual([
      ['node_modules/c', 5000, ['a']],
      ['node_modules/a', 1300, ['a']],
      ['node_modules/d/node_modules/c', 700, ['d']],
      ['node_modules/b', 200, ['a', 'd']],
      ['node_modules/d', 100, ['d']],
      ['node_modules/@types/e', 50, ['a']],
    ]);
    expect(directDependencies).toEqual([
      { name: 'a', closurePackages: 4, closureBytes: 6550, exclusiveBytes: 6350 },
      { name: 'd', closurePackages: 3, closureBytes: 1000, exclusiveBytes: 800 },
    ]);
  });

  it('when declarations are counted, then .d.ts files and @types packages count, and nothing else', () => {
    const d = declarations(join(app, 'node_modules'));
    expect(d.files).toBe(2);
    expect(d.apparentBytes).toBe(350);
  });
});

const RESULTS: ImageResults = {
  generatedAt: '2026-11-30T05:08:12.000Z',
  commit: 'abc1234',
  node: '26.12.1',
  npm: '11.19.1',
  loadAverage: '0.50 0.40 0.30',
  base: 'gcr.io/distroless/nodejs26-debian13:nonroot@sha256:afc6',
  commands: { deps: 'npm ci --omit=dev', build: ['npm run build'] },
  layers: [
    {
      target: '/app/node_modules',
      from: 'deps:/app/node_modules',
      files: 10,
      apparentBytes: 3 * 1024 * 1024,
      diskBytes: 4 * 1024 * 1024,
      tarBytes: 3.5 * 1024 * 1024,
      tarGzipBytes: 1024 * 1024,
    },
    {
      target: '/app/dist',
      from: 'build:/src/dist',
      files: 2,
      apparentBytes: 1024 * 1024,
      diskBytes: 1024 * 1024,
      tarBytes: 1024 * 1024,
      tarGzipBytes: 512 * 1024,
    },
  ],
  total: {
    files: 12,
    apparentBytes: 4 * 1024 * 1024,
    diskBytes: 5 * 1024 * 1024,
    tarBytes: 4.5 * 1024 * 1024,
    tarGzipBytes: 1.5 * 1024 * 1024,
  },
  packages: {
    count: 2,
    largest: [
      {
        path: 'node_modules/@kubernetes/client-node',
        version: '1.3.0',
        files: 9,
        apparentBytes: 2 * 1024 * 1024,
        diskBytes: 0,
        requiredBy: ['@kubernetes/client-node'],
      },
    ],
  },
  directDependencies: [
    { name: 'yaml', closurePackages: 1, closureBytes: 1024, exclusiveBytes: 1024 },
    {
      name: '@kubernetes/client-node',
      closurePackages: 2,
      closureBytes: 3 * 1024 * 1024,
      exclusiveBytes: 2 * 1024 * 1024,
    },
  ],
  declarations: { files: 3, apparentBytes: 1024 * 1024, diskBytes: 1024 * 1024 },
};

describe('the image report', () => {
  it('when rendered, then it gives our layers with their total, says the base is not included and the gzip size is an estimate', () => {
    const md = renderImage(RESULTS);
    expect(md).toContain('on commit abc1234 with Node 26.12.1 and npm 11.19.1 (load average 0.50 0.40 0.30');
    expect(md).toContain(
      '| `/app/node_modules` | `deps:/app/node_modules` | 10 | 3.0 MiB | 4.0 MiB | 3.5 MiB | 1.0 MiB |',
    );
    expect(md).toContain('| `/app/dist` | `build:/src/dist` | 2 | 1.0 MiB | 1.0 MiB | 1.0 MiB | 512.0 KiB |');
    expect(md).toContain('| **our layers** |  | 12 | 4.0 MiB | 5.0 MiB | 4.5 MiB | 1.5 MiB |');
    expect(md).toContain(
      'the base image (`gcr.io/distroless/nodejs26-debian13:nonroot@sha256:afc6`) cannot be fetched here, so its size is not included',
    );
    expect(md).toMatch(/tar\.gz column estimates .* Docker's own layer tar differs slightly/);
    expect(md).toContain('| `@kubernetes/client-node` | 1.3.0 | 9 | 2.0 MiB | @kubernetes/client-node |');
    expect(md).toContain('make up 3 files and 1.0 MiB in node_modules (25 % of our layers');
  });

  it('when rendered, then direct dependencies come largest first', () => {
    const md = renderImage(RESULTS);
    expect(md.indexOf('| `@kubernetes/client-node` | 2 | 3.0 MiB | 2.0 MiB |')).toBeGreaterThan(0);
    expect(md.indexOf('| `@kubernetes/client-node` | 2 |')).toBeLessThan(
      md.indexOf('| `yaml` | 1 | 1.0 KiB | 1.0 KiB |'),
    );
  });
});
