/** Reads the CLI's input files: values files, or multi-document manifests (with `List`s flattened). */
import { readFileSync } from 'node:fs';
import { LineCounter, parseAllDocuments } from 'yaml';
import { isObject } from '../engine/values.js';

/** An input file that cannot be used; exit 2 with this one line. */
export class InputFileError extends Error {
  override name = 'InputFileError';
}

/** One Kubernetes object read from a file, with where it came from. */
export interface LocatedObject {
  object: unknown;
  location: string;
}

function readText(file: string): string {
  try {
    return file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8');
  } catch (err: unknown) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code;
    throw new InputFileError(`${file}: cannot read (${why})`);
  }
}

function displayName(file: string): string {
  return file === '-' ? '<stdin>' : file;
}

function parseDocs(file: string): Array<{ value: unknown; line: number }> {
  const text = readText(file);
  const lc = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lc, prettyErrors: false });
  if (!Array.isArray(docs)) return [];
  const out: Array<{ value: unknown; line: number }> = [];
  for (const doc of docs) {
    const err = doc.errors[0];
    if (err) {
      const line = lc.linePos(err.pos[0]).line;
      throw new InputFileError(
        `${displayName(file)}:${line}: not valid YAML: ${err.message.split('\n')[0] ?? ''}`,
      );
    }
    const start = doc.contents?.range[0] ?? 0;
    out.push({ value: doc.toJS({ maxAliasCount: 1000 }) as unknown, line: lc.linePos(start).line });
  }
  return out;
}

/** Reads one values file; it must be a mapping (an empty file is no values). */
export function readValuesFile(file: string): Record<string, unknown> {
  const docs = parseDocs(file).filter((d) => d.value !== null && d.value !== undefined);
  if (docs.length === 0) return {};
  if (docs.length > 1)
    throw new InputFileError(
      `${displayName(file)}: a values file holds one YAML document, found ${docs.length}`,
    );
  const v = docs[0]?.value;
  if (!isObject(v))
    throw new InputFileError(
      `${displayName(file)}: values must be a mapping of keys, not ${Array.isArray(v) ? 'a list' : typeof v}`,
    );
  return v;
}

/** Reads every object of a manifest file; `List` kinds are flattened. */
export function readManifestFile(file: string): LocatedObject[] {
  const name = displayName(file);
  const out: LocatedObject[] = [];
  for (const { value, line } of parseDocs(file)) {
    if (value === null || value === undefined) continue;
    if (!isObject(value) || typeof value.kind !== 'string') {
      throw new InputFileError(`${name}:${line}: not a Kubernetes object (no kind)`);
    }
    if (value.kind === 'List' || (value.kind.endsWith('List') && Array.isArray(value.items))) {
      const items = Array.isArray(value.items) ? (value.items as unknown[]) : [];
      items.forEach((item, i) => out.push({ object: item, location: `${name}:${line} items[${i}]` }));
    } else {
      out.push({ object: value, location: `${name}:${line}` });
    }
  }
  return out;
}
