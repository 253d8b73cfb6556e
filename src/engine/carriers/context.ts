/**
 * What a carrier may need besides its own object: files it names (Argo CD value files) and the
 * ConfigMaps and Secrets it points at (Flux valuesFrom). Each caller fills what it can reach: `check`
 * from disk and its other inputs, the audit and the webhook from the cluster. What is absent is
 * reported as a note naming it, never silently ignored.
 */
import type { CarrierRef, ReleaseSubject } from '../types.js';

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

/** The data of a ConfigMap or Secret (Secret values already base64-decoded); null when it does not exist. */
export type DataLookup = (
  kind: 'ConfigMap' | 'Secret',
  namespace: string,
  name: string,
) => Record<string, string> | null;

/** What the caller can give carriers. */
export interface CarrierContext {
  valueFiles?: ValueFileReader;
  /** Absent where the cluster cannot be read: references are then named in a note. */
  lookup?: DataLookup;
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
