/**
 * What a carrier may need besides its own object: files it names (Argo CD value files) and the
 * ConfigMaps and Secrets it points at (Flux valuesFrom). Each caller fills what it can reach: `check`
 * from disk and its other inputs, the audit and the webhook from the cluster. What is absent is
 * reported as a note naming it, never silently ignored.
 */
import type { CarrierRef, ReleaseSubject } from '../types.js';
import { isObject } from '../values.js';

/** Reads a values file a carrier names; undefined when the file is not available to this caller. */
export type ValueFileReader = (file: ValueFileRef) => Record<string, unknown> | undefined;

/** A values file named by an Argo CD source: its path, and the repository it lives in. */
export interface ValueFileRef {
  /** As written in the Application (`values-prod.yaml`, `$values/env/prod.yaml`). */
  written: string;
  /** The path inside `repoURL` (the `$ref/` prefix resolved, the source's `path` applied). */
  path: string;
  repoURL: string;
}

/** A ConfigMap or Secret that exists, or may, but could not be read here (forbidden, API error). */
export interface Unreadable {
  unreadable: string;
}

/**
 * The data of a ConfigMap or Secret (Secret values already base64-decoded); null when it does not
 * exist; Unreadable, with the reason, when it could not be read.
 */
export type DataLookup = (
  kind: 'ConfigMap' | 'Secret',
  namespace: string,
  name: string,
) => Record<string, string> | null | Unreadable;

/** Reads the data of a ConfigMap or Secret from a cluster: null when it does not exist; throws when it cannot be read. */
export type DataReader = (
  kind: 'ConfigMap' | 'Secret',
  namespace: string,
  name: string,
) => Promise<Record<string, string> | null>;

/** Reads `refs` through `read` ahead of judging (judging is synchronous), keeping why one could not be read. */
export async function prefetch(
  refs: ReadonlyArray<{ kind: 'ConfigMap' | 'Secret'; namespace: string; name: string }>,
  read: DataReader,
  why: (err: unknown) => string,
): Promise<DataLookup> {
  const found = new Map<string, Record<string, string> | null | Unreadable>();
  for (const r of refs) {
    const key = `${r.kind}/${r.namespace}/${r.name}`;
    if (found.has(key)) continue;
    found.set(
      key,
      await read(r.kind, r.namespace, r.name).catch((err: unknown) => ({ unreadable: why(err) })),
    );
  }
  return (kind, namespace, name) => found.get(`${kind}/${namespace}/${name}`) ?? null;
}

/** What the caller can give carriers. */
export interface CarrierContext {
  valueFiles?: ValueFileReader;
  /** Absent where the cluster cannot be read: references are then named in a note. */
  lookup?: DataLookup;
  /** Why there is no lookup here (`the webhook runs without --cluster-view`), for that note. */
  noLookup?: string;
  /** Chart metadata and default values of a chart kept in git (Argo CD `source.path`), when readable. */
  gitChart?: (repoURL: string, path: string) => GitChart | undefined;
}

/** A chart read from a directory: Chart.yaml and values.yaml. */
export interface GitChart {
  metadata: Record<string, unknown>;
  values: Record<string, unknown>;
}

/** Marks a release subject as carried by `ref`, with the notes about what was not read. */
export function carried(subject: ReleaseSubject, ref: CarrierRef, notes: string[]): ReleaseSubject {
  return { ...subject, carrier: ref, ...(notes.length > 0 ? { carrierNotes: notes } : {}) };
}

/** A carrier's identity from its metadata. */
export function carrierRef(obj: Record<string, unknown>): CarrierRef {
  const md = (typeof obj.metadata === 'object' && obj.metadata !== null ? obj.metadata : {}) as Record<
    string,
    unknown
  >;
  return {
    apiVersion: typeof obj.apiVersion === 'string' ? obj.apiVersion : '',
    kind: typeof obj.kind === 'string' ? obj.kind : '',
    name: typeof md.name === 'string' ? md.name : '',
    ...(typeof md.namespace === 'string' && md.namespace !== '' ? { namespace: md.namespace } : {}),
  };
}

/** `Kind namespace/name`, as messages name a carrier. */
export function describeCarrier(ref: CarrierRef): string {
  return `${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`;
}

/** The data of a ConfigMap or Secret as strings: Secret `data` base64-decoded, and `stringData` as committed. */
export function objectData(obj: Record<string, unknown>, kind: unknown = obj.kind): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(isObject(obj.data) ? obj.data : {}))
    if (typeof v === 'string') out[k] = kind === 'Secret' ? Buffer.from(v, 'base64').toString('utf8') : v;
  // stringData is what people commit for Secrets; the API server folds it into data.
  for (const [k, v] of Object.entries(isObject(obj.stringData) ? obj.stringData : {}))
    if (typeof v === 'string') out[k] = v;
  return out;
}
