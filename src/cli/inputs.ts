/** Reads the CLI's input files: values files, or multi-document manifests (with `List`s flattened). */
import type { AdmissionContext } from '../engine/types.js';
import { admissionContext } from '../rules/admission.js';
import { readFileSync } from 'node:fs';
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { CST, Lexer, LineCounter, parseAllDocuments } from 'yaml';
import { HelmYamlError, helmYamlValue } from '../engine/helm-yaml.js';
import { isObject } from '../engine/values.js';
import { nestedDeeperThan } from '../helm/release.js';
import { GO_MAX_DEPTH } from '../helm/release-json.js';

/** An input file that cannot be used; exit 2 with this one line. */
export class InputFileError extends Error {
  override name = 'InputFileError';
}

/** One YAML document's value and the line it starts on. */
interface ParsedDoc {
  value: unknown;
  line: number;
}

/** One Kubernetes object read from a file, with where it came from. */
export interface LocatedObject {
  object: unknown;
  location: string;
  /** For the object of an AdmissionReview: its request and oldObject, as the webhook gives them to rules. */
  admission?: AdmissionContext;
  /** The file it came from, as shown to the user (`<stdin>` for `-`); absent for objects not from a file. */
  input?: string;
}

function readBytes(file: string): Buffer {
  try {
    return file === '-' ? readFileSync(0) : readFileSync(file);
  } catch (err: unknown) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code;
    throw new InputFileError(`${file}: cannot read (${why})`);
  }
}

/**
 * UTF-16 text (what PowerShell's `>` writes): a byte-order mark, or a NUL byte among the first ones,
 * which UTF-8 YAML never holds. Read as UTF-8 it would be one string of garbage.
 */
function isUtf16(bytes: Buffer): boolean {
  const bom = (bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff);
  return bom || bytes.subarray(0, 64).includes(0);
}

function readText(file: string): string {
  const bytes = readBytes(file);
  if (isUtf16(bytes))
    throw new InputFileError(`${displayName(file)}: is UTF-16 text; save it as UTF-8 and run again`);
  return bytes.toString('utf8');
}

/** How an input is named in messages: `-` is standard input. */
export function displayName(file: string): string {
  return file === '-' ? '<stdin>' : file;
}

/**
 * The deepest nesting read on the main thread. The yaml parser recurses once per level and exhausts
 * the stack near 800 levels; a second such document in one process can then abort V8 itself (a fatal
 * error, not an exception), so deeper manifests are refused before they are parsed, and deeper values
 * files (Helm reads 10,000 levels) are parsed on a thread with a large stack. Real files stay below 40.
 */
export const MAX_YAML_DEPTH = 256;

const FLOW_START = new Set(['flow-map-start', 'flow-seq-start']);
const FLOW_END = new Set(['flow-map-end', 'flow-seq-end']);
const BLOCK_INDICATORS = new Set(['seq-item-ind', 'explicit-key-ind', 'map-value-ind']);

/** What yamlDepthBound knows after each token. */
interface DepthScan {
  /** Indentations of the block levels open at this line. */
  open: number[];
  flow: number;
  /** Block indicators (`- `, `? `, `: `) seen on this line, each of which may open a level. */
  indicators: number;
  indent: number;
  lineStart: boolean;
}

function newLine(s: DepthScan): void {
  [s.lineStart, s.indent, s.indicators] = [true, 0, 0];
}

/** A token that opens or continues content: the first on a line sets the block level. */
function content(s: DepthScan, type: string): void {
  if (s.lineStart && s.flow === 0) {
    while (s.open.length > 0 && (s.open.at(-1) ?? 0) >= s.indent) s.open.pop();
    s.open.push(s.indent);
  }
  s.lineStart = false;
  if (FLOW_START.has(type)) s.flow += 1;
  else if (FLOW_END.has(type)) s.flow = Math.max(0, s.flow - 1);
  else if (s.flow === 0 && BLOCK_INDICATORS.has(type)) s.indicators += 1;
}

/**
 * An upper bound of the nesting depth of YAML text, read from its tokens without building anything
 * (so without recursion): block levels by indentation, plus indicators on the line, plus flow brackets.
 * Stops counting once past `stopAt`.
 */
export function yamlDepthBound(text: string, stopAt = Infinity): number {
  const s: DepthScan = { open: [], flow: 0, indicators: 0, indent: 0, lineStart: true };
  let [max, scalarSource] = [0, false];
  for (const token of new Lexer().lex(text)) {
    if (scalarSource) {
      // The source of a scalar; a block scalar's ends with its last line.
      scalarSource = false;
      if (token.endsWith('\n')) newLine(s);
      continue;
    }
    const type = CST.tokenType(token) ?? '';
    if (type === 'newline') newLine(s);
    else if (type === 'space') s.indent = s.lineStart ? token.length : s.indent;
    else if (type === 'doc-mode' || type === 'doc-start' || type === 'doc-end') [s.open, s.flow] = [[], 0];
    else if (type !== 'comment') {
      content(s, type);
      scalarSource = type === 'scalar';
      max = Math.max(max, s.open.length + s.indicators + s.flow);
      if (max > stopAt) return max;
    }
  }
  return max;
}

/**
 * A yaml error's text without what follows its first colon: some messages quote the source there
 * (`Not a YAML token: <text>`), and the text may be a secret.
 */
function yamlProblem(message: string): string {
  return (message.split('\n')[0] ?? '').replace(/:\s.*$/s, '');
}

function toJs(doc: ReturnType<typeof parseAllDocuments>[number], where: string): unknown {
  try {
    return doc.toJS({ maxAliasCount: 1000 }) as unknown;
  } catch (err: unknown) {
    // yaml's guard against alias bombs, an alias without its anchor (a value starting with `*`,
    // whose name must not be printed), or a structure too deep to convert: bad input, not a crash.
    const message = err instanceof Error ? err.message : '';
    const why = /alias count/.test(message)
      ? 'too many aliases'
      : /Unresolved alias/.test(message)
        ? 'an alias (*name) without its anchor; quote values that start with *'
        : 'it cannot be converted';
    throw new InputFileError(`${where}: not usable YAML: ${why}`);
  }
}

/** Helm's reading of a values document (YAML 1.1 by go-yaml v2's rules); an error names the place. */
function helmValue(doc: ReturnType<typeof parseAllDocuments>[number], where: string): unknown {
  try {
    return helmYamlValue(doc);
  } catch (err: unknown) {
    if (err instanceof HelmYamlError) {
      throw new InputFileError(`${where}: not usable YAML: ${err.message}`);
    }
    throw err;
  }
}

/** Parses YAML text into its documents: values as Helm reads them, manifests as the yaml package does. */
export function parseYamlText(text: string, name: string, helm: boolean): ParsedDoc[] {
  const lc = new LineCounter();
  const options = helm ? { version: '1.1' as const, merge: false, uniqueKeys: false } : {};
  const docs = parseAllDocuments(text, { lineCounter: lc, prettyErrors: false, ...options });
  if (!Array.isArray(docs)) return [];
  const out: ParsedDoc[] = [];
  for (const doc of docs) {
    const err = doc.errors[0];
    if (err) {
      const line = lc.linePos(err.pos[0]).line;
      throw new InputFileError(`${name}:${line}: not valid YAML: ${yamlProblem(err.message)}`);
    }
    const line = lc.linePos(doc.contents?.range[0] ?? 0).line;
    const where = `${name}:${line}`;
    const value = helm ? helmValue(doc, where) : toJs(doc, where);
    if (helm && nestedDeeperThan(value, GO_MAX_DEPTH))
      throw new InputFileError(`${where}: nested more than ${GO_MAX_DEPTH} levels deep (Helm's limit)`);
    out.push({ value, line });
  }
  return out;
}

/**
 * The most a values file's depth bound may show before it is refused unparsed: the bound counts
 * block indicators as levels, so a document within Helm's 10,000 levels can show more, never this much.
 */
const DEEP_BOUND_LIMIT = 4 * GO_MAX_DEPTH;
/** The stack of the thread that parses deep values: about 1.2 KB per level, with room to spare. */
const DEEP_STACK_MB = 96;
const DEEP_WORKER = new URL(
  import.meta.url.endsWith('.ts') ? './yaml-worker.ts' : './yaml-worker.js',
  import.meta.url,
);

/**
 * Parses a deeply nested values file on a worker thread with a large stack, and waits for it: the
 * CLI reads its inputs synchronously, and the main thread's stack holds about 800 yaml levels.
 */
function readDeepValues(text: string, name: string): ParsedDoc[] {
  const done = new Int32Array(new SharedArrayBuffer(4));
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(DEEP_WORKER, {
    workerData: { text, name, port: port2, done },
    transferList: [port2],
    resourceLimits: { stackSizeMb: DEEP_STACK_MB },
  });
  worker.unref();
  Atomics.wait(done, 0, 0);
  const answer = receiveMessageOnPort(port1)?.message as { json?: string; error?: string } | undefined;
  port1.close();
  void worker.terminate();
  if (answer?.json === undefined)
    throw new InputFileError(answer?.error ?? `${name}: not usable YAML: it cannot be converted`);
  return JSON.parse(answer.json) as ParsedDoc[];
}

/**
 * Values files are read as Helm reads them (sigs.k8s.io/yaml over go-yaml v2: YAML 1.1, `yes`/`on`
 * are booleans, `<<` merges, a repeated key keeps its last value), up to Helm's 10,000 levels;
 * manifests as the yaml package does, up to MAX_YAML_DEPTH.
 */
function parseDocs(file: string, helm = false): ParsedDoc[] {
  const text = readText(file);
  const name = displayName(file);
  const bound = yamlDepthBound(text, helm ? DEEP_BOUND_LIMIT : MAX_YAML_DEPTH);
  if (bound <= MAX_YAML_DEPTH) return parseYamlText(text, name, helm);
  if (!helm) throw new InputFileError(`${name}: nested more than ${MAX_YAML_DEPTH} levels deep`);
  if (bound > DEEP_BOUND_LIMIT)
    throw new InputFileError(`${name}: nested more than ${GO_MAX_DEPTH} levels deep (Helm's limit)`);
  return readDeepValues(text, name);
}

/** Reads one values file; it must be a mapping (an empty file is no values). */
export function readValuesFile(file: string): Record<string, unknown> {
  const docs = parseDocs(file, true).filter((d) => d.value !== null && d.value !== undefined);
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

/** The object an AdmissionReview asks about, as the webhook would judge it. */
function reviewedObject(review: Record<string, unknown>, where: string): LocatedObject {
  const request = review.request;
  const object = isObject(request) ? request.object : undefined;
  if (!isObject(object))
    throw new InputFileError(`${where}: an AdmissionReview without request.object; nothing to judge`);
  return {
    object,
    location: `${where} request.object`,
    input: where.replace(/:\d+$/, ''),
    admission: admissionContext(request as Record<string, unknown>),
  };
}

/** Reads every object of a manifest file; `List`s are flattened, AdmissionReviews give their object. */
export function readManifestFile(file: string): LocatedObject[] {
  const name = displayName(file);
  const out: LocatedObject[] = [];
  for (const { value, line } of parseDocs(file)) {
    if (value === null || value === undefined) continue;
    if (!isObject(value) || typeof value.kind !== 'string') {
      throw new InputFileError(
        `${name}:${line}: not a Kubernetes object (no kind); for Helm values add --chart NAME`,
      );
    }
    if (value.kind === 'AdmissionReview') out.push(reviewedObject(value, `${name}:${line}`));
    else if (value.kind === 'List' || (value.kind.endsWith('List') && Array.isArray(value.items))) {
      const items = Array.isArray(value.items) ? (value.items as unknown[]) : [];
      items.forEach((item, i) =>
        out.push({ object: item, location: `${name}:${line} items[${i}]`, input: name }),
      );
    } else {
      out.push({ object: value, location: `${name}:${line}`, input: name });
    }
  }
  return out;
}
