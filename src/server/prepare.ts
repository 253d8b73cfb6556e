/**
 * From a request body to a prepared review, as plain data: the JSON parsed, the AdmissionReview
 * checked, a release decoded. The same function runs on the event loop for small bodies and in the
 * offload worker for large ones.
 */
import type { Config } from '../config/types.js';
import { MalformedReviewError, parseAdmissionReview, type AdmissionRequest } from './admission.js';
import { HttpProblem, parseJsonBody } from './body.js';
import { prepareReview, type PreparedReview } from './review.js';

/** What reading a body gives: a prepared review, or why there is none. */
export type BodyOutcome =
  | { type: 'prepared'; request: AdmissionRequest; prepared: PreparedReview }
  | { type: 'malformed'; reason: string }
  | { type: 'problem'; code: number; reason: string; message: string }
  | { type: 'failed'; errorType: string };

/** Parses, checks and prepares one review body; never throws. */
export function prepareBody(body: Buffer, config: Config): BodyOutcome {
  try {
    const request = parseAdmissionReview(parseJsonBody(body));
    const prepared = prepareReview(request, config);
    // The object goes no further: what follows needs only the request's identity and the subject.
    delete request.object;
    return { type: 'prepared', request, prepared };
  } catch (err: unknown) {
    if (err instanceof HttpProblem)
      return { type: 'problem', code: err.code, reason: err.reason, message: err.message };
    if (err instanceof MalformedReviewError) return { type: 'malformed', reason: err.message };
    // Not ours: only the error's type is kept, since its message may quote the body.
    return { type: 'failed', errorType: err instanceof Error ? err.name : typeof err };
  }
}
