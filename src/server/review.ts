/**
 * Turns one AdmissionRequest into a decision: the subjects prepared (prepare-review.ts) are judged by
 * the one engine, and onError and audit mode applied to what it says. No HTTP here.
 */
import type { Config } from '../config/types.js';
import {
  evaluate,
  isDenied,
  type EvaluateOptions,
  type EvaluationResult,
  type JudgeOptions,
} from '../engine/evaluate.js';
import { catalogOf } from '../rules/catalog.js';
import type { AdmissionRequest } from './admission.js';
import {
  allowedBecause,
  auditAnnotations,
  denialMessage,
  fitWarnings,
  policyErrorWarning,
} from './messages.js';
import { prepareReview, type Decision, type PreparedReview } from './prepare-review.js';

export { prepareReview, type Decision, type PreparedReview } from './prepare-review.js';

function errorWarnings(result: EvaluationResult, config: Config, denied: boolean): string[] {
  if (denied && config.onError === 'deny') return [];
  const why = allowedBecause(config);
  return result.errors.map((e) => policyErrorWarning(e, why));
}

/** The decision for a result that found nothing and failed nowhere: most reviews, built without the general path. */
function quietAllow(result: EvaluationResult, config: Config): Decision {
  return {
    allowed: true,
    warnings: [],
    auditAnnotations: config.mode === 'audit' ? { mode: 'audit' } : {},
    subject: result.object,
    findings: result.findings,
    policyErrors: [],
  };
}

/** Turns an engine result into a decision; audit mode and onError are applied by isDenied. */
export function decide(result: EvaluationResult, config: Config): Decision {
  if (result.findings.length === 0 && result.errors.length === 0 && result.notes.length === 0)
    return quietAllow(result, config);
  const denied = isDenied(result, config);
  const deny = result.findings.filter((f) => f.action === 'deny');
  const warn = result.findings.filter((f) => f.action === 'warn');
  const refusingErrors = config.mode !== 'audit' && config.onError === 'deny' ? result.errors : [];
  const extra: Record<string, string> = {};
  if (config.mode === 'audit') extra.mode = 'audit';
  if (result.errors.length > 0) extra.error = 'policy';
  return {
    allowed: !denied,
    ...(denied
      ? { message: denialMessage({ object: result.object, denied: deny, errors: refusingErrors }) }
      : {}),
    warnings: fitWarnings([
      ...warn.map((f) => f.message),
      ...errorWarnings(result, config, denied),
      ...result.notes,
    ]),
    auditAnnotations: auditAnnotations(result.findings, extra),
    subject: result.object,
    findings: result.findings,
    policyErrors: result.errors.map((e) => e.policy ?? 'unknown'),
  };
}

/** One result for several subjects of one object (an umbrella release with two judged charts). */
function combine(results: EvaluationResult[]): EvaluationResult {
  if (results.length === 1 && results[0]) return results[0];
  return {
    object: results.map((r) => r.object).join('; '),
    findings: results.flatMap((r) => r.findings),
    exempted: results.flatMap((r) => r.exempted),
    errors: results.flatMap((r) => r.errors),
    notes: results.flatMap((r) => r.notes),
  };
}

/** Runs the one engine on the prepared subjects. */
export function finishReview(prepared: PreparedReview, config: Config, opts: JudgeOptions = {}): Decision {
  if ('decision' in prepared) return prepared.decision;
  const handed =
    opts.policies === undefined ? { ...opts, policies: catalogOf(config) } : (opts as EvaluateOptions);
  const only = prepared.subjects.length === 1 ? prepared.subjects[0] : undefined;
  // One subject, as almost every review has: no list of results to build and combine.
  if (only !== undefined) return decide(evaluate(only, config, handed), config);
  return decide(combine(prepared.subjects.map((s) => evaluate(s, config, handed))), config);
}

/** Judges one AdmissionRequest: DELETE and release UPDATEs are never decoded. */
export function reviewRequest(req: AdmissionRequest, config: Config, opts: JudgeOptions = {}): Decision {
  return finishReview(prepareReview(req, config), config, opts);
}
