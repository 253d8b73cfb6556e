/**
 * The import graph of src/: layers only point down (STYLE.md, habit 11). Every relative import of
 * every src/**\/*.ts file is read with the TypeScript parser and checked against one table.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '../../src');

/**
 * What each top-level folder of src/ may import, lowest first. policies, rules and config are one
 * layer (the catalog and what configures it): the built-ins share CEL checks with the rules, and the
 * config validates rule and policy ids. Everything above the engine may use everything below it.
 */
const ALLOWED: Record<string, readonly string[]> = {
  helm: [],
  engine: ['helm'],
  policies: ['engine', 'rules'],
  rules: ['engine', 'policies', 'config'],
  config: ['engine', 'policies', 'rules'],
  k8s: ['engine'],
  certs: ['k8s'],
  audit: ['helm', 'engine', 'policies', 'rules', 'config', 'k8s'],
  server: ['helm', 'engine', 'policies', 'rules', 'config', 'k8s', 'certs', 'audit'],
  cli: ['helm', 'engine', 'policies', 'rules', 'config', 'k8s', 'certs', 'audit', 'server'],
};

/** Arrows allowed only as `import type`: the engine is handed a Config and names its type. */
const TYPE_ONLY: ReadonlyArray<readonly [string, string]> = [['engine', 'config']];

/**
 * Single files allowed an arrow the table forbids, each with why. evaluate() is handed its catalog by
 * every caller in src; its default (catalogOf) remains for bench/decode-stages.ts and the engine
 * tests, which call evaluate(subject, config) and are not this change's to edit.
 */
const EXCEPTIONS: ReadonlyArray<readonly [string, string]> = [['engine/evaluate.ts', 'rules/catalog.ts']];

/** One relative import: from file, to file (both relative to src/), and whether it is type-only. */
interface Arrow {
  from: string;
  to: string;
  typeOnly: boolean;
}

function typeOnlyImport(node: ts.ImportDeclaration): boolean {
  const clause = node.importClause;
  if (!clause) return false;
  if (clause.isTypeOnly) return true;
  const named = clause.namedBindings;
  return (
    clause.name === undefined &&
    named !== undefined &&
    ts.isNamedImports(named) &&
    named.elements.length > 0 &&
    named.elements.every((e) => e.isTypeOnly)
  );
}

/** Every import, re-export and dynamic import() of a module that names a relative path. */
export function arrowsOf(file: string, text: string): Arrow[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const out: Arrow[] = [];
  const add = (spec: ts.Expression | undefined, typeOnly: boolean): void => {
    if (!spec || !ts.isStringLiteral(spec) || !spec.text.startsWith('.')) return;
    const target = join(dirname(file), spec.text).replace(/\.js$/, '.ts');
    out.push({ from: file, to: target, typeOnly });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) add(node.moduleSpecifier, typeOnlyImport(node));
    else if (ts.isExportDeclaration(node)) add(node.moduleSpecifier, node.isTypeOnly);
    else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword)
      add(node.arguments[0], false);
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

const layer = (file: string): string => file.split('/')[0] ?? '';

/** Why an arrow breaks the layering, or undefined when it is allowed. */
export function violation(a: Arrow): string | undefined {
  const from = layer(a.from);
  const to = layer(a.to);
  if (from === to) return undefined;
  if (EXCEPTIONS.some(([f, t]) => f === a.from && t === a.to)) return undefined;
  if ((ALLOWED[from] ?? []).includes(to)) return undefined;
  if (a.typeOnly && TYPE_ONLY.some(([f, t]) => f === from && t === to)) return undefined;
  return `${a.from} imports ${a.to}${a.typeOnly ? ' (type only)' : ''}: ${from}/ may not import ${to}/`;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

const arrows = sources(SRC).flatMap((abs) => arrowsOf(relative(SRC, abs), readFileSync(abs, 'utf8')));

describe('layers of src/', () => {
  it('when any src file imports across folders, then only down the table (engine, helm and policies use nothing from server, cli, audit or k8s)', () => {
    expect(arrows.map(violation).filter((v) => v !== undefined)).toEqual([]);
  });

  it('when a folder is added to src/, then it must be placed in the table', () => {
    const folders = new Set(arrows.flatMap((a) => [layer(a.from), layer(a.to)]));
    expect([...folders].filter((f) => !f.endsWith('.ts') && !(f in ALLOWED))).toEqual([]);
  });

  it('when the scanner reads src, then it sees multi-line, type-only and re-exported arrows', () => {
    const has = (from: string, to: string, typeOnly: boolean): boolean =>
      arrows.some((a) => a.from === from && a.to === to && a.typeOnly === typeOnly);
    expect(arrows.length).toBeGreaterThan(300);
    expect(has('engine/subjects.ts', 'helm/release.ts', false)).toBe(true);
    expect(has('engine/evaluate.ts', 'config/types.ts', true)).toBe(true);
    expect(has('engine/subjects.ts', 'engine/carriers/context.ts', true)).toBe(true);
  });

  it('when a lower layer reaches up, then the check names the file and the arrow', () => {
    const bad = [
      "import {\n  createApp,\n} from '../server/app.js';",
      "export { auditCluster } from '../audit/audit.js';",
      "const m = await import('../k8s/rest.js');",
      "import { defaultConfig } from '../config/types.js';",
    ].flatMap((text) => arrowsOf('engine/x.ts', text));
    expect(bad.map(violation)).toEqual([
      'engine/x.ts imports server/app.ts: engine/ may not import server/',
      'engine/x.ts imports audit/audit.ts: engine/ may not import audit/',
      'engine/x.ts imports k8s/rest.ts: engine/ may not import k8s/',
      'engine/x.ts imports config/types.ts: engine/ may not import config/',
    ]);
    expect(
      arrowsOf('policies/p.ts', "import { isObject } from '../engine/values.js';").map(violation),
    ).toEqual([undefined]);
  });
});
