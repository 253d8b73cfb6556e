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
import { prepareReview, type PreparedReview } from './prepare-review.js';

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
  /** A release to decode that is not small: left for the worker, a few at a time. */
  | { type: 'deferred' };

/**
 * Whether preparing the request decodes a Helm release. A release's size is known only once it is
 * inflated, and a 50 KB body can inflate to 60 MB, so a small body alone is no reason to decode it here.
 */
function decodesRelease(request: AdmissionRequest): boolean {
  return request.operation === 'CREATE' && isObject(request.object) && isReleaseSecret(request.object);
}

/**
 * A release that inflates to at most this much is decoded on the event loop: sending it to the worker
 * and its decoded subject back cost more than decoding it (the bench's small release went from 1,589
 * to 718 µs of CPU a review). The inflater stops at this size, so the event loop never does more.
 */
export const INLINE_RELEASE_BYTES = 256 * 1024;

/**
 * The release prepared on the event loop, when it is small and reads without a problem; otherwise
 * undefined, and the worker decodes it with the configured limit and words whatever is wrong.
 */
function preparedInline(
  request: AdmissionRequest,
  config: Config,
  ctx: CarrierContext,
): PreparedReview | undefined {
  const maxReleaseBytes = Math.min(config.limits.maxReleaseBytes, INLINE_RELEASE_BYTES);
  const prepared = prepareReview(request, { ...config, limits: { ...config.limits, maxReleaseBytes } }, ctx);
  return 'decision' in prepared && prepared.decision.inputError !== undefined ? undefined : prepared;
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
 * Prepares a parsed request; never throws. With `deferReleases`, a release Secret CREATE is decoded
 * here only when it is small (INLINE_RELEASE_BYTES) and reads cleanly; otherwise it is answered
 * `deferred`, for the caller to hand to the worker.
 */
export function prepareRequest(
  request: AdmissionRequest,
  config: Config,
  deferReleases = false,
  ctx: CarrierContext = {},
): BodyOutcome {
  try {
    const prepared =
      deferReleases && decodesRelease(request)
        ? preparedInline(request, config, ctx)
        : prepareReview(request, config, ctx);
    if (prepared === undefined) return { type: 'deferred' };
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
