/**
 * CRDs as their projects publish them, read from the Go module cache after a scripted
 * `go mod download` (as the e2e binaries are built from Go modules): nothing of them is committed.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { KubeRest } from '../../src/k8s/rest.js';
import { apply, attempt } from './support.js';

/** Where a CRD is published: Go module, version, path inside the module. */
export interface CrdSource {
  module: string;
  version: string;
  file: string;
}

/** The published CRD manifest, downloaded into the Go module cache when missing. */
export function publishedCrd({ module, version, file }: CrdSource): Record<string, unknown> {
  const out = execFileSync('go', ['mod', 'download', '-json', `${module}@${version}`], {
    cwd: tmpdir(),
    encoding: 'utf8',
    env: { ...process.env, GOWORK: 'off', GOFLAGS: '', GO111MODULE: 'on' },
    timeout: 600_000,
  });
  const { Dir, Error: err } = JSON.parse(out) as { Dir?: string; Error?: string };
  if (Dir === undefined) throw new Error(`go mod download ${module}@${version}: ${err ?? 'no Dir'}`);
  const crd = parseAllDocuments(readFileSync(join(Dir, file), 'utf8'))
    .map((d) => d.toJS() as Record<string, unknown> | null)
    .find((d) => d?.kind === 'CustomResourceDefinition');
  if (!crd) throw new Error(`${module}@${version} ${file}: no CustomResourceDefinition`);
  return crd;
}

/** Installs (or replaces) a CRD and waits until the API server serves its resource. */
export async function installCrd(rest: KubeRest, crd: Record<string, unknown>): Promise<void> {
  await apply(rest, '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd);
  const spec = crd.spec as {
    group: string;
    names: { plural: string };
    versions: Array<{ name: string; storage: boolean }>;
  };
  const version = spec.versions.find((v) => v.storage)?.name ?? '';
  const list = `/apis/${spec.group}/${version}/${spec.names.plural}`;
  // Served once the CRD is Established and discovery caught up: 404 until discovery knows it, 503
  // while its storage initialises. Wait for that event, with a bound so a broken CRD fails the run.
  const deadline = Date.now() + 60_000;
  while ((await attempt(rest, 'GET', list, undefined)).status !== 200) {
    if (Date.now() > deadline) throw new Error(`${list} was not served within 60 s of installing its CRD`);
    await new Promise((res) => setTimeout(res, 200));
  }
}
