/**
 * Worker of the offload prototypes: judges a whole AdmissionReview body (parse, release decode,
 * policies) off the main thread and sends back the answer and what logs and metrics need. With
 * workerData.fastDecode, releases are decoded by the prototype decoder (release-decode.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { defaultConfig } from '../../src/config/types.js';
import { evaluate } from '../../src/engine/evaluate.js';
import { isReleaseSecret, releaseFromHelm } from '../../src/engine/subjects.js';
import { toHelmRelease } from '../../src/helm/release.js';
import {
  admissionResponse,
  parseAdmissionReview,
  type AdmissionRequest,
} from '../../src/server/admission.js';
import { decide, reviewRequest, type Decision } from '../../src/server/review.js';
import { decodeReleaseSelective } from './release-decode.js';

const config = defaultConfig();
const fastDecode = (workerData as { fastDecode?: boolean } | undefined)?.fastDecode === true;
const RECORD_STATUSES = new Set(['deployed', 'superseded', 'failed', 'uninstalled', 'uninstalling']);

/** reviewRequest with the prototype decoder for release CREATEs (the rest is gloo-guard's own). */
function judge(request: AdmissionRequest): Decision {
  const obj = request.object as Record<string, unknown> | undefined;
  const data = (obj?.data as { release?: unknown } | undefined)?.release;
  if (
    !fastDecode ||
    request.operation !== 'CREATE' ||
    !obj ||
    !isReleaseSecret(obj) ||
    typeof data !== 'string'
  ) {
    return reviewRequest(request, config);
  }
  const subject = releaseFromHelm(
    toHelmRelease(decodeReleaseSelective(data, config.limits.maxReleaseBytes)),
    {
      location: 'admission',
    },
  );
  const allow = (skipped: string): Decision => ({
    allowed: true,
    warnings: [],
    auditAnnotations: {},
    skipped,
    findings: [],
    policyErrors: [],
  });
  if (subject === undefined) return allow('not a chart gloo-guard judges');
  if (RECORD_STATUSES.has(subject.release.status ?? '')) return allow('a release record');
  return decide(evaluate(subject, config), config);
}

parentPort?.on('message', (m: { id: number; body: ArrayBuffer }) => {
  try {
    const request = parseAdmissionReview(JSON.parse(Buffer.from(m.body).toString('utf8')));
    const decision = judge(request);
    const lite = { ...request };
    delete lite.object;
    const answer = JSON.stringify(admissionResponse(request.uid, decision));
    parentPort?.postMessage({ id: m.id, answer, request: lite, decision });
  } catch {
    parentPort?.postMessage({ id: m.id, error: 'not an AdmissionReview or an unreadable release' });
  }
});
