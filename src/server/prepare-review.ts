/**
 * The part of a review that needs no engine: which requests are judged, and the subjects read from
 * the object (a release decoded). Kept apart from review.ts so that the offload worker, which runs
 * only this, does not load the policies, the rules and the CEL runtime: that halved the worker's
 * memory (38 to 16 MiB of RSS for the modules alone) and its start.
 */
import type { Config } from '../config/types.js';
import type { CarrierContext } from '../engine/carriers/context.js';
import type { Finding } from '../engine/evaluate.js';
import { isReleaseConfigMap, isReleaseSecret, readObject } from '../engine/subjects.js';
import type { Subject } from '../engine/types.js';
import { isObject } from '../engine/values.js';
import type { AdmissionRequest, Verdict } from './admission.js';
import { allowedBecause, fitWarnings, inputErrorDenial, inputErrorWarning } from './messages.js';

/** A decision with what logs and metrics need besides the verdict. */
export interface Decision extends Verdict {
  /** What was judged (`release gloo-mesh/gloo-mesh-enterprise (chart ...)`); absent when nothing was. */
  subject?: string;
  /** Why the request was let through without judging. */
  skipped?: string;
  findings: Finding[];
  /** Ids of policies that failed to run. */
  policyErrors: string[];
  /** Our own message about an unreadable object: safe to log, it never quotes the object. */
  inputError?: string;
}

/**
 * Statuses of release records that describe an operation already done (a restore from backup, a
 * history import): the resources exist, so refusing the record protects nothing.
 */
const RECORD_STATUSES = new Set(['deployed', 'superseded', 'failed', 'uninstalled', 'uninstalling']);

function allow(skipped: string): Decision {
  return { allowed: true, warnings: [], auditAnnotations: {}, skipped, findings: [], policyErrors: [] };
}

/** Why a request is let through without looking at its object, or undefined when it is judged. */
function notJudged(req: AdmissionRequest): string | undefined {
  if (req.operation === 'DELETE' || req.operation === 'CONNECT') return `${req.operation} is always allowed`;
  if (req.subResource !== undefined) return `subresource ${req.subResource} is not judged`;
  if (isObject(req.object) && req.operation !== 'CREATE') {
    // Helm records the outcome of a running install/upgrade with UPDATEs; refusing one wedges the release.
    if (isReleaseSecret(req.object)) return `${req.operation} of a Helm release Secret is always allowed`;
    if (isReleaseConfigMap(req.object))
      return `${req.operation} of a Helm release ConfigMap is always allowed`;
  }
  return undefined;
}

/** Names the object for messages without decoding it: kind, namespace/name, and Helm's labels. */
function describeRequest(req: AdmissionRequest): string {
  const name = `${req.namespace ? `${req.namespace}/` : ''}${req.name ?? ''}`;
  const base = `${req.kind.kind} ${name}`.trim();
  const md = isObject(req.object) && isObject(req.object.metadata) ? req.object.metadata : {};
  const labels = isObject(md.labels) ? md.labels : {};
  if (typeof labels.name === 'string' && typeof labels.version === 'string' && labels.owner === 'helm') {
    return `${base} (Helm release ${labels.name}, revision ${labels.version})`;
  }
  return base;
}

function onInputError(req: AdmissionRequest, config: Config, problem: string): Decision {
  const what = describeRequest(req);
  const base = { findings: [], policyErrors: [], inputError: problem, auditAnnotations: { error: 'input' } };
  if (config.mode === 'audit' || config.onError === 'allow') {
    const warning = inputErrorWarning(what, problem, allowedBecause(config));
    return { ...base, allowed: true, warnings: fitWarnings([warning]) };
  }
  return { ...base, allowed: false, message: inputErrorDenial(what, problem), warnings: [] };
}

/**
 * A request read as far as it can be without the engine: either already decided (not judged, an
 * input error, a release record) or the subject to judge. Plain data, so the costly part (decoding
 * a release) can run on another thread while the engine runs where the cluster view lives.
 */
export type PreparedReview = { decision: Decision } | { subjects: Subject[] };

/** Decides what can be decided without the engine, and reads the subjects; the object is decoded at most once. */
export function prepareReview(
  req: AdmissionRequest,
  config: Config,
  ctx: CarrierContext = {},
): PreparedReview {
  const skip = notJudged(req);
  if (skip !== undefined) return { decision: allow(skip) };
  // An unreadable object is an input error, never a crash and never the user's values in a message.
  const source = { location: 'admission', ...(req.admission ? { admission: req.admission } : {}) };
  const read = readObject(req.object, source, config.limits.maxReleaseBytes, ctx, true);
  if ('problem' in read) return { decision: onInputError(req, config, read.problem) };
  if ('notJudged' in read) return { decision: allow(read.notJudged) };
  const { subjects } = read;
  if (subjects.length === 0)
    return { decision: allow(`${req.kind.kind} is not a kind or chart gloo-guard judges`) };
  const first = subjects[0];
  if (first?.kind === 'release' && RECORD_STATUSES.has(first.release.status ?? '')) {
    return { decision: allow(`a release record with status ${first.release.status ?? ''} is not judged`) };
  }
  return { subjects };
}
