/**
 * AdmissionReview v1 on the wire: check what the API server sent before any policy code runs, and
 * build what it expects back. Pure: no express, no engine.
 */
import { admissionContext } from '../rules/admission.js';
import type { AdmissionContext } from '../engine/types.js';
import { isObject } from '../engine/values.js';

/** The only AdmissionReview version gloo-guard serves (`admissionReviewVersions: ["v1"]`). */
export const ADMISSION_API_VERSION = 'admission.k8s.io/v1';

/** The operations an AdmissionRequest can carry. */
export type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

const OPERATIONS: readonly Operation[] = ['CREATE', 'UPDATE', 'DELETE', 'CONNECT'];

/** Kubernetes UIDs are 36 characters; anything much longer is not from an API server. */
const MAX_UID_LENGTH = 128;

/** The fields of `request` that gloo-guard reads (k8s.io/api admission/v1 AdmissionRequest). */
export interface AdmissionRequest {
  uid: string;
  kind: { group: string; version: string; kind: string };
  subResource?: string;
  name?: string;
  namespace?: string;
  operation: Operation;
  /** Only the user name is kept: groups and extra are never logged or echoed. */
  username?: string;
  /** The object as it would be stored; absent for DELETE. */
  object?: unknown;
  /** Set when the object is a Helm release record (kept for the log once the object is dropped). */
  release?: true;
  /** `request` and `oldObject` for rules; never logged (userInfo.groups and extra stay here). */
  admission?: AdmissionContext;
  dryRun: boolean;
}

/** metav1.Status as a webhook returns it in a denial. */
export interface AdmissionStatus {
  code: number;
  reason: string;
  message: string;
}

/** The `response` of an AdmissionReview. */
export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: AdmissionStatus;
  warnings?: string[];
  auditAnnotations?: Record<string, string>;
}

/** The AdmissionReview gloo-guard answers with. */
export interface AdmissionReviewResponse {
  apiVersion: typeof ADMISSION_API_VERSION;
  kind: 'AdmissionReview';
  response: AdmissionResponse;
}

/** What the webhook decided, as the wire needs it. */
export interface Verdict {
  allowed: boolean;
  /** The denial message; required when not allowed. */
  message?: string;
  warnings: string[];
  auditAnnotations: Record<string, string>;
}

/** A body that is not a usable AdmissionReview; the message is one line and never quotes the body. */
export class MalformedReviewError extends Error {
  override name = 'MalformedReviewError';
}

function fail(reason: string): never {
  throw new MalformedReviewError(reason);
}

function optionalString(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function readKind(v: unknown): AdmissionRequest['kind'] {
  if (!isObject(v) || typeof v.kind !== 'string' || v.kind === '') fail('request.kind.kind is missing');
  return {
    group: typeof v.group === 'string' ? v.group : '',
    version: typeof v.version === 'string' ? v.version : '',
    kind: v.kind,
  };
}

function readOperation(v: unknown): Operation {
  if (typeof v !== 'string' || !(OPERATIONS as readonly string[]).includes(v)) {
    fail(`request.operation must be one of ${OPERATIONS.join(', ')}`);
  }
  return v as Operation;
}

function readUid(v: unknown): string {
  if (typeof v !== 'string' || v === '') fail('request.uid is missing; the API server always sends one');
  if (v.length > MAX_UID_LENGTH) fail(`request.uid is longer than ${MAX_UID_LENGTH} characters`);
  return v;
}

function checkEnvelope(body: unknown): Record<string, unknown> {
  if (!isObject(body)) fail('the body is not a JSON object; send an AdmissionReview');
  if (body.apiVersion !== ADMISSION_API_VERSION) {
    fail(
      `apiVersion must be ${ADMISSION_API_VERSION}; configure the webhook with admissionReviewVersions: ["v1"]`,
    );
  }
  if (body.kind !== 'AdmissionReview') fail('kind must be AdmissionReview');
  if (!isObject(body.request)) fail('the AdmissionReview has no request');
  return body.request;
}

/** Checks an AdmissionReview body and returns its request; throws MalformedReviewError with a one-line reason. */
export function parseAdmissionReview(body: unknown): AdmissionRequest {
  const r = checkEnvelope(body);
  const uid = readUid(r.uid);
  const kind = readKind(r.kind);
  const operation = readOperation(r.operation);
  const out: AdmissionRequest = { uid, kind, operation, dryRun: r.dryRun === true };
  // Only the fields that are there: absent ones stay absent, not undefined (the log drops neither).
  setOptional(out, 'subResource', optionalString(r.subResource));
  setOptional(out, 'name', optionalString(r.name));
  setOptional(out, 'namespace', optionalString(r.namespace));
  setOptional(out, 'username', optionalString(isObject(r.userInfo) ? r.userInfo.username : undefined));
  if (r.object !== undefined && r.object !== null) out.object = r.object;
  out.admission = admissionContext(r);
  return out;
}

function setOptional(
  req: AdmissionRequest,
  key: 'subResource' | 'name' | 'namespace' | 'username',
  value: string | undefined,
): void {
  if (value !== undefined) req[key] = value;
}

/** Builds the AdmissionReview answer: the uid copied over, a 403 Status when refused. */
export function admissionResponse(uid: string, verdict: Verdict): AdmissionReviewResponse {
  const response: AdmissionResponse = { uid, allowed: verdict.allowed };
  if (!verdict.allowed) {
    response.status = { code: 403, reason: 'Forbidden', message: verdict.message ?? 'refused by gloo-guard' };
  }
  if (verdict.warnings.length > 0) response.warnings = verdict.warnings;
  if (Object.keys(verdict.auditAnnotations).length > 0) response.auditAnnotations = verdict.auditAnnotations;
  return { apiVersion: ADMISSION_API_VERSION, kind: 'AdmissionReview', response };
}

/** The AdmissionReview answer as JSON text: an allow with nothing to add, the most common answer, without a generic stringify. */
export function admissionResponseText(uid: string, verdict: Verdict): string {
  const plain =
    verdict.allowed && verdict.warnings.length === 0 && Object.keys(verdict.auditAnnotations).length === 0;
  if (!plain) return JSON.stringify(admissionResponse(uid, verdict));
  return `{"apiVersion":"${ADMISSION_API_VERSION}","kind":"AdmissionReview","response":{"uid":${JSON.stringify(uid)},"allowed":true}}`;
}

/**
 * A metav1.Status for a non-200 answer. client-go decodes it, so the API server reports our one-line
 * reason ("failed calling webhook ...: <reason>") instead of "the server rejected our request".
 */
export function failureStatus(code: number, reason: string, message: string): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}
