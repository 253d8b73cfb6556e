/**
 * The `request` and `oldObject` of an admission request as a ValidatingAdmissionPolicy defines them
 * (k8s.io/apiserver's CEL admission library): every field present, absent strings as "", so a rule
 * reads `request.namespace` or `request.userInfo.groups` the same in the webhook, the CLI and the
 * API server.
 */
import type { AdmissionContext } from '../engine/types.js';
import { isObject } from '../engine/values.js';

type Json = Record<string, unknown>;

function text(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

// Two functions with fixed keys, not one with a computed key: such an object literal is built slowly,
// and every review builds four.
function gvk(v: unknown): Json {
  const o = isObject(v) ? v : {};
  return { group: text(o.group), version: text(o.version), kind: text(o.kind) };
}

function gvr(v: unknown): Json {
  const o = isObject(v) ? v : {};
  return { group: text(o.group), version: text(o.version), resource: text(o.resource) };
}

/** The strings of a list; the list itself when it holds nothing else, as the API server's always does. */
function strings(v: unknown): unknown[] {
  if (!Array.isArray(v)) return [];
  for (const g of v as unknown[]) if (typeof g !== 'string') return v.filter((x) => typeof x === 'string');
  return v;
}

function userInfo(v: unknown): Json {
  const u = isObject(v) ? v : {};
  return {
    username: text(u.username),
    uid: text(u.uid),
    groups: strings(u.groups),
    extra: isObject(u.extra) ? u.extra : {},
  };
}

/** The VAP `request` of a raw AdmissionRequest. */
export function celRequest(r: Json): Json {
  return {
    uid: text(r.uid),
    kind: gvk(r.kind),
    resource: gvr(r.resource),
    subResource: text(r.subResource),
    requestKind: gvk(r.requestKind ?? r.kind),
    requestResource: gvr(r.requestResource ?? r.resource),
    requestSubResource: text(r.requestSubResource ?? r.subResource),
    name: text(r.name),
    namespace: text(r.namespace),
    operation: text(r.operation),
    userInfo: userInfo(r.userInfo),
    dryRun: r.dryRun === true,
    options: isObject(r.options) ? r.options : null,
  };
}

/** `request` and `oldObject` of a raw AdmissionRequest (oldObject is null on CREATE, as the API server sends it). */
export function admissionContext(r: Json): AdmissionContext {
  const old = r.operation === 'CREATE' ? null : r.oldObject;
  return { request: celRequest(r), oldObject: old === undefined ? null : old };
}
