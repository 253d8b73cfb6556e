import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { defaultConfig, type Config } from '../../src/config/types.js';
import type { Finding } from '../../src/engine/evaluate.js';
import type { Policy } from '../../src/engine/types.js';
import { POLICIES } from '../../src/policies/index.js';
import { admissionResponse, admissionResponseText, type Verdict } from '../../src/server/admission.js';
import { createApp } from '../../src/server/app.js';
import { createLogger, type Logger } from '../../src/server/log.js';
import {
  denialMessage,
  fitWarning,
  fitWarnings,
  oneLine,
  runeLength,
  truncateRunes,
  WARNING_MAX_RUNES,
  WARNINGS_TOTAL_RUNES,
} from '../../src/server/messages.js';
import { namespaceObject, objectReview, releaseReview } from '../fixtures/admission/reviews.js';

function finding(i: number, extra = ''): Finding {
  return {
    policy: `policy-${i}`,
    action: 'deny',
    severity: 'high',
    message: `[policy-${i}] thing ${i} is wrong${extra} (a.b.c${i}) -> set a.b.c${i}: true`,
    path: `a.b.c${i}`,
    fix: `set a.b.c${i}: true`,
    source: 'admission',
    object: 'release ns/r',
  };
}

describe('warnings fit what the API server keeps', () => {
  it('when a warning is longer than 256 runes, then it is cut at a word with an ellipsis, counting runes not bytes', () => {
    const long = `[p] ${'é🙂 word '.repeat(80)}`;
    const cut = truncateRunes(long, WARNING_MAX_RUNES);
    expect(runeLength(cut)).toBeLessThanOrEqual(256);
    expect(cut.endsWith('…')).toBe(true);
    expect(cut).not.toMatch(/\uD83D…$/); // never half a surrogate pair
  });

  it('when warnings add up past 4096 runes, then the rest is counted in a last warning, all within budget', () => {
    const many = Array.from({ length: 40 }, (_, i) => finding(i, ' '.padEnd(200, 'x')).message);
    const fitted = fitWarnings(many);
    const total = fitted.reduce((n, w) => n + runeLength(w), 0);
    expect(total).toBeLessThanOrEqual(WARNINGS_TOTAL_RUNES);
    expect(fitted.at(-1)).toMatch(/^gloo-guard: \d+ more warnings not shown; run gloo-guard check for all$/);
    expect(fitted.length).toBeLessThan(40);
    for (const w of fitted) expect(runeLength(w)).toBeLessThanOrEqual(WARNING_MAX_RUNES);
  });

  it('when warnings repeat or hold control characters, then they are deduplicated and each stays one line', () => {
    expect(fitWarnings(['[a] x\ny', '[a] x\ny', '', '[b]\tz\u0007'])).toEqual(['[a] x y', '[b] z']);
    expect(oneLine('a\r\n\u2028b')).toBe('a b');
  });
});

describe('the denial message', () => {
  it('when more than 20 violations are denied, then 20 are listed and the rest counted', () => {
    const denied = Array.from({ length: 25 }, (_, i) => finding(i));
    const lines = denialMessage({ object: 'release ns/r', denied, errors: [] }).split('\n');
    expect(lines[0]).toBe('gloo-guard: 25 violations in release ns/r:');
    expect(lines.filter((l) => l.startsWith('[policy-'))).toHaveLength(20);
    expect(lines).toContain('...and 5 more; run gloo-guard check on the same values to see them all');
  });

  it('when a violation message holds a newline (a value from the user), then it stays on its line', () => {
    const f = { ...finding(1), message: '[p] image tag "a\nb" is wrong (x) -> fix' };
    expect(denialMessage({ object: 'o', denied: [f], errors: [] }).split('\n')[1]).toBe(
      '[p] image tag "a b" is wrong (x) -> fix',
    );
  });

  it('when the verdict is an allow, then the response has no status and no empty fields', () => {
    expect(admissionResponse('u', { allowed: true, warnings: [], auditAnnotations: {} })).toEqual({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      response: { uid: 'u', allowed: true },
    });
  });
});

describe('the answer as the API server reads it', () => {
  const post = (body: Record<string, unknown>, over: Partial<Config> = {}) => {
    const config = { ...defaultConfig(), ...over };
    return request(createApp({ config: () => config }))
      .post('/validate')
      .send(body);
  };

  it('when a Namespace that nothing is wrong with is allowed, then the body is exactly the AdmissionReview with its uid and allowed, and its length is the Content-Length', async () => {
    const uid = 'q"uo\\te\u2028é🙂-7f0c';
    const res = await post(objectReview(namespaceObject('team-a'), { uid }));
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(Number(res.headers['content-length'])).toBe(Buffer.byteLength(res.text));
    expect(JSON.parse(res.text)).toEqual({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      response: { uid, allowed: true },
    });
  });

  it('when the same Namespace is allowed in audit mode, then the answer carries the audit annotation as before', async () => {
    const res = await post(objectReview(namespaceObject('team-a')), { mode: 'audit' });
    expect(res.body.response).toEqual({
      uid: expect.any(String),
      allowed: true,
      auditAnnotations: { mode: 'audit' },
    });
  });

  it('for any verdict, then the answer text is the generic JSON of the answer', () => {
    const verdicts: Verdict[] = [
      { allowed: true, warnings: [], auditAnnotations: {} },
      { allowed: true, warnings: ['[p] w -> fix'], auditAnnotations: {} },
      { allowed: true, warnings: [], auditAnnotations: { mode: 'audit' } },
      { allowed: false, message: 'no', warnings: [], auditAnnotations: { violations: '1' } },
    ];
    for (const uid of ['u', 'q"\\\n\u0000é🙂']) {
      for (const v of verdicts) {
        expect(admissionResponseText(uid, v)).toBe(JSON.stringify(admissionResponse(uid, v)));
      }
    }
  });
});

describe('a policy that fails is an error, not a violation, and follows onError', () => {
  const broken: Policy = {
    ...POLICIES[0]!,
    id: 'always-throws',
    appliesTo: ['release'],
    validate: () => {
      throw new RangeError('boom at relay.token=s3cr3t');
    },
  };
  const post = (over: Partial<Config>, logger?: Logger) => {
    const config = { ...defaultConfig(), ...over };
    const app = createApp({
      config: () => config,
      evaluateOptions: () => ({ policies: [broken] }),
      ...(logger ? { logger } : {}),
    });
    return request(app).post('/validate').send(releaseReview());
  };
  const FAILED = 'policy always-throws failed to run (RangeError); the gloo-guard logs have the details';

  it('when onError is deny, then the release is refused, the message names the failed policy but not the error text, and the log has the error at error level', async () => {
    const logLines: string[] = [];
    const logger = createLogger({ write: (l: string) => logLines.push(l) });
    const r = (await post({}, logger)).body.response;
    expect(r.allowed).toBe(false);
    const msg = r.status.message.split('\n');
    expect(msg[0]).toBe(
      'gloo-guard refused release gloo-mesh/gloo-mesh-enterprise (chart gloo-mesh-enterprise 2.0.9 revision 1): 1 policy could not be checked and onError is deny:',
    );
    expect(msg[1]).toBe(`[always-throws] could not be checked: ${FAILED}`);
    expect(r.status.message).not.toContain('s3cr3t');
    expect(r.auditAnnotations).toEqual({ error: 'policy' });
    const logged = logLines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const failure = logged.find((l) => l.msg === 'a policy failed to run');
    expect(failure).toMatchObject({ level: 'error', policy: 'always-throws', err: { type: 'RangeError' } });
    expect(logLines.join('')).not.toContain('s3cr3t');
  });

  it('when onError is allow, then it is allowed with a warning', async () => {
    const r = (await post({ onError: 'allow' })).body.response;
    expect(r.allowed).toBe(true);
    expect(r.warnings).toEqual([`[always-throws] could not be checked (onError: allow): ${FAILED}`]);
  });

  it('when mode is audit, then it is allowed with a warning', async () => {
    const r = (await post({ mode: 'audit' })).body.response;
    expect(r.allowed).toBe(true);
    expect(r.warnings[0]).toContain('(mode: audit)');
  });
});

describe('a warning too long for the API server', () => {
  it('when a line is over 256 runes, then its description is shortened and its fix kept whole', () => {
    const fix = 'remove the injection setting from glooMeshUi.deploymentOverrides.spec.template.metadata';
    const line = `[no-injection-in-gloo-mesh] ${'deploymentOverrides turn on Istio injection '.repeat(6)}(a.b) -> ${fix}`;
    const fitted = fitWarning(line);
    expect(runeLength(fitted)).toBeLessThanOrEqual(WARNING_MAX_RUNES);
    expect(fitted.startsWith('[no-injection-in-gloo-mesh] deploymentOverrides')).toBe(true);
    expect(fitted.endsWith(` -> ${fix}`)).toBe(true);
  });

  it('when the chart defaults are reviewed, then the mgmt-server-internal-lb warning Helm prints ends with its whole fix', async () => {
    const app = createApp({ config: () => defaultConfig() });
    const res = await request(app)
      .post('/validate')
      .send(releaseReview({ values: {} }));
    const warning = (res.body.response.warnings as string[]).find((w) =>
      w.startsWith('[mgmt-server-internal-lb]'),
    );
    expect(warning).toBeDefined();
    expect(runeLength(warning!)).toBeLessThanOrEqual(WARNING_MAX_RUNES);
    expect(warning).toMatch(
      / -> set glooMeshMgmtServer\.serviceType: ClusterIP, or add your cloud's internal load balancer annotation \(gloo-guard policies lists them\) under glooMeshMgmtServer\.serviceOverrides\.metadata\.annotations$/,
    );
  });
});
