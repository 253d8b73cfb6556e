/**
 * From a request body to a prepared review, as plain data: the JSON parsed, the AdmissionReview
 * checked, a release decoded. The same function runs on the event loop for small bodies and in the
 * offload worker for large ones.
 */
import type { Config } from '../config/types.js';
import type { CarrierContext } from '../engine/carriers/context.js';
import { MalformedReviewError, parseAdmissionReview, type AdmissionRequest } from './admission.js';
import { isReleaseConfigMap, isReleaseSecret } from '../engine/subjects.js';
import { isObject } from '../engine/values.js';
import { HttpProblem, parseJsonBody } from './body.js';
import { prepareReview, type PreparedReview } from './review.js';

/**
 * What reading a body gives: a prepared review, or why there is none. Plain data, not errors: it
 * crosses the worker boundary, where postMessage would drop an error's class, so callers tell
 * outcomes by `type` instead of instanceof.
 */
export type BodyOutcome =
  | { type: 'prepared'; request: AdmissionRequest; prepared: PreparedReview }
  | { type: 'malformed'; reason: string }
  | { type: 'problem'; code: number; reason: string; message: string }
  | { type: 'failed'; errorType: string }
  /** A release to decode: left for the worker, a few at a time, however small its body. */
  | { type: 'deferred' };

/**
 * Whether preparing the request decodes a Helm release. A release's size is known only once it is
 * inflated, and a 50 KB body can inflate to 60 MB, so a small body is no reason to decode it here.
 */
function decodesRelease(request: AdmissionRequest): boolean {
  return request.operation === 'CREATE' && isObject(request.object) && isReleaseSecret(request.object);
}

/** What is not a prepared review, from an error thrown while reading one; only our own texts are kept. */
function failureOf(err: unknown): Exclude<BodyOutcome, { type: 'prepared' } | { type: 'deferred' }> {
  if (err instanceof HttpProblem)
    return { type: 'problem', code: err.code, reason: err.reason, message: err.message };
  if (err instanceof MalformedReviewError) return { type: 'malformed', reason: err.message };
  // Not ours: only the error's type is kept, since its message may quote the body.
  return { type: 'failed', errorType: err instanceof Error ? err.name : typeof err };
}

/** A body read as far as its AdmissionRequest, or why it is not a usable AdmissionReview; never throws. */
export function parseBody(
  body: Buffer,
): { type: 'parsed'; request: AdmissionRequest } | ReturnType<typeof failureOf> {
  try {
    return { type: 'parsed', request: parseAdmissionReview(parseJsonBody(body)) };
  } catch (err: unknown) {
    return failureOf(err);
  }
}

/**
 * Prepares a parsed request; never throws. With `deferReleases`, a release Secret CREATE is not
 * decoded but answered `deferred`, for the caller to hand to the worker.
 */
export function prepareRequest(
  request: AdmissionRequest,
  config: Config,
  deferReleases = false,
  ctx: CarrierContext = {},
): BodyOutcome {
  try {
    if (deferReleases && decodesRelease(request)) return { type: 'deferred' };
    const prepared = prepareReview(request, config, ctx);
    const o = request.object;
    if (isObject(o) && (isReleaseSecret(o) || isReleaseConfigMap(o))) request.release = true;
    // The object goes no further: what follows needs only the request's identity and the subject.
    // Cleared, not deleted: a delete turns the request into a slow dictionary for every later read.
    request.object = undefined;
    request.admission = undefined;
    return { type: 'prepared', request, prepared };
  } catch (err: unknown) {
    return failureOf(err);
  }
}

/** Parses, checks and prepares one review body, a release decoded too; never throws. */
export function prepareBody(body: Buffer, config: Config): BodyOutcome {
  const parsed = parseBody(body);
  return parsed.type === 'parsed' ? prepareRequest(parsed.request, config) : parsed;
}
