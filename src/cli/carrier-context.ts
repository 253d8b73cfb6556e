/**
 * What `check` gives the GitOps carriers from files: the ConfigMaps and Secrets among its inputs (for
 * Flux `valuesFrom`), and a checkout of the git repository (`--values-dir`) for Argo CD value files and
 * charts kept in git.
 */
import { existsSync, statSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import {
  objectData,
  type CarrierContext,
  type GitChart,
  type ValueFileRef,
} from '../engine/carriers/context.js';
import { isObject } from '../engine/values.js';
import { InputFileError, readValuesFile, type LocatedObject } from './inputs.js';

/** A lookup over the ConfigMaps and Secrets given to `check`; one without a namespace matches any. */
function lookupFrom(objects: LocatedObject[]): CarrierContext['lookup'] {
  const found = new Map<string, Record<string, string>>();
  for (const { object } of objects) {
    if (!isObject(object) || (object.kind !== 'ConfigMap' && object.kind !== 'Secret')) continue;
    const md = isObject(object.metadata) ? object.metadata : {};
    if (typeof md.name !== 'string') continue;
    const ns = typeof md.namespace === 'string' ? md.namespace : '*';
    found.set(`${object.kind}/${ns}/${md.name}`, objectData(object));
  }
  return (kind, namespace, name) =>
    found.get(`${kind}/${namespace}/${name}`) ?? found.get(`${kind}/*/${name}`) ?? null;
}

/** A path inside the checkout; never outside it, whatever `..` the Application holds. */
function inside(dir: string, path: string): string | undefined {
  const root = resolve(dir);
  const p = resolve(root, path);
  return p === root || p.startsWith(root + sep) ? p : undefined;
}

function valueFileReader(dir: string): CarrierContext['valueFiles'] {
  return (f: ValueFileRef) => {
    const p = inside(dir, f.path);
    return p !== undefined && existsSync(p) && statSync(p).isFile() ? readValuesFile(p) : undefined;
  };
}

function gitChartReader(dir: string): CarrierContext['gitChart'] {
  return (_repoURL, path): GitChart | undefined => {
    const p = inside(dir, path);
    if (p === undefined || !existsSync(join(p, 'Chart.yaml'))) return undefined;
    const values = existsSync(join(p, 'values.yaml')) ? readValuesFile(join(p, 'values.yaml')) : {};
    return { metadata: readValuesFile(join(p, 'Chart.yaml')), values };
  };
}

/** The carrier context of one `check` run. */
export function checkCarrierContext(objects: LocatedObject[], valuesDir?: string): CarrierContext {
  if (valuesDir !== undefined && !(existsSync(valuesDir) && statSync(valuesDir).isDirectory()))
    throw new InputFileError(`--values-dir ${valuesDir}: not a directory`);
  return {
    lookup: lookupFrom(objects),
    ...(valuesDir !== undefined
      ? { valueFiles: valueFileReader(valuesDir), gitChart: gitChartReader(valuesDir) }
      : {}),
  };
}
