/** What `npm run bench:image` writes (bench/results/image.json) and its Markdown (image.md, docs/performance.md). */

/** Bytes and files of some paths: apparent size (what `du -b` sums) and disk use (`du`, 4 KiB blocks here). */
export interface Footprint {
  files: number;
  apparentBytes: number;
  diskBytes: number;
}

/** One `COPY --from=` of the runtime stage: one layer of the image. */
export interface LayerSize extends Footprint {
  /** Where it lands in the image (/app/node_modules). */
  target: string;
  /** The stage and path it comes from (deps:/app/node_modules). */
  from: string;
  /** A tar of it (sorted, owner 0, mtime 0), uncompressed and gzip-compressed (level 6, as Docker pushes). */
  tarBytes: number;
  tarGzipBytes: number;
}

/** One installed package (a node_modules/... directory, without its own nested node_modules). */
export interface PackageSize extends Footprint {
  path: string;
  version: string;
  /** The direct dependencies of package.json that pull it in. */
  requiredBy: string[];
}

/** One direct dependency with everything it pulls in. */
export interface DirectDependency {
  name: string;
  /** Packages it reaches (itself included) and their apparent bytes; shared ones count for each. */
  closurePackages: number;
  closureBytes: number;
  /** Apparent bytes of the packages only it reaches: what dropping it would save. */
  exclusiveBytes: number;
}

/** bench/results/image.json. */
export interface ImageResults {
  generatedAt: string;
  /** sourceCommit() of bench/build.ts. */
  commit: string;
  node: string;
  npm: string;
  loadAverage: string;
  /** The runtime stage's base image: pinned by digest, not fetched here, so not measured. */
  base: string;
  /** The commands read from the Dockerfile and run here. */
  commands: { deps: string; build: string[] };
  layers: LayerSize[];
  total: Footprint & { tarBytes: number; tarGzipBytes: number };
  packages: { count: number; largest: PackageSize[] };
  directDependencies: DirectDependency[];
  /** Type declarations in node_modules (`*.d.ts`, `@types/`), which Node never loads. */
  declarations: Footprint;
}

/** Bytes as MiB with one decimal (KiB below 1 MiB). */
export function formatBytes(n: number): string {
  return n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MiB` : `${(n / 1024).toFixed(1)} KiB`;
}

function layerTable(r: ImageResults): string[] {
  const row = (
    name: string,
    from: string,
    s: Footprint & { tarBytes: number; tarGzipBytes: number },
  ): string =>
    `| ${name} | ${from} | ${s.files} | ${formatBytes(s.apparentBytes)} | ${formatBytes(s.diskBytes)} | ${formatBytes(s.tarBytes)} | ${formatBytes(s.tarGzipBytes)} |`;
  return [
    '| Path in the image | From | Files | Apparent size | On disk | tar | tar.gz (estimate) |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
    ...r.layers.map((l) => row(`\`${l.target}\``, `\`${l.from}\``, l)),
    row('**our layers**', '', r.total),
  ];
}

function packageTable(r: ImageResults): string[] {
  return [
    '| Package | Version | Files | Apparent size | Pulled in by |',
    '| --- | --- | ---: | ---: | --- |',
    ...r.packages.largest.map(
      (p) =>
        `| \`${p.path.replace(/^node_modules\//, '')}\` | ${p.version} | ${p.files} | ${formatBytes(p.apparentBytes)} | ${p.requiredBy.join(', ')} |`,
    ),
  ];
}

function directTable(r: ImageResults): string[] {
  const sorted = [...r.directDependencies].sort((a, b) => b.closureBytes - a.closureBytes);
  return [
    '| Dependency | Packages it pulls in | Their size | Only it pulls in |',
    '| --- | ---: | ---: | ---: |',
    ...sorted.map(
      (d) =>
        `| \`${d.name}\` | ${d.closurePackages} | ${formatBytes(d.closureBytes)} | ${formatBytes(d.exclusiveBytes)} |`,
    ),
  ];
}

/** The image section's Markdown (no heading of its own: docs/performance.md places it under one). */
export function renderImage(r: ImageResults): string {
  return [
    `Measured ${r.generatedAt.slice(0, 16).replace('T', ' ')} UTC on commit ${r.commit} with Node ${r.node} and npm ${r.npm} (load average ${r.loadAverage}; bench/results/image.json, \`npm run bench:image\`).`,
    `The Dockerfile's stages were reproduced without Docker: the deps stage's \`${r.commands.deps}\` in a temporary directory, the build stage's \`${r.commands.build.join(' && ')}\` in another, and the runtime stage's \`COPY --from=\` paths measured. These are our layers only: the base image (\`${r.base}\`) cannot be fetched here, so its size is not included.`,
    '',
    ...layerTable(r),
    '',
    `The tar.gz column estimates what a registry stores for each layer (a sorted tar with owner 0 and mtime 0, gzip level 6); Docker's own layer tar differs slightly (its headers, its mtimes). ${r.packages.count} packages are installed in node_modules; the ten largest:`,
    '',
    ...packageTable(r),
    '',
    'Each production dependency of package.json with everything it pulls in (shared packages count for each; the last column is what dropping it would save):',
    '',
    ...directTable(r),
    '',
    `Type declarations (\`*.d.ts\` and \`@types/\`) make up ${r.declarations.files} files and ${formatBytes(r.declarations.apparentBytes)} in node_modules (${Math.round((100 * r.declarations.apparentBytes) / r.total.apparentBytes)} % of our layers' apparent size); Node never loads them.`,
  ].join('\n');
}

/** bench/results/image.md: the section under a title. */
export function renderImageMarkdown(r: ImageResults): string {
  return `# What gloo-guard puts into its image\n\n${renderImage(r)}\n`;
}
