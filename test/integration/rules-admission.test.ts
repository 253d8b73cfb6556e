// `request` and `oldObject` in user rules, as a ValidatingAdmissionPolicy defines them: through the
// webhook (createApp) and through `gloo-guard check` of an AdmissionReview file; a manifest or a
// values file has no request (only kind, name and namespace) and a null oldObject.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { stringify } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { createApp } from '../../src/server/app.js';
import {
  deploymentObject,
  objectReview,
  PRODUCTION_VALUES,
  releaseReview,
} from '../fixtures/admission/reviews.js';
import { cli } from '../helpers/cli.js';

const CONFIG = `
rules:
  - id: replicas-never-shrink
    title: An update never lowers the replicas
    severity: medium
    appliesTo: [deployment]
    expression: oldObject == null || object.spec.replicas >= oldObject.spec.replicas
    messageExpression: >-
      request.operation + ' by ' + request.userInfo.username + ' lowers replicas from ' +
      string(oldObject.spec.replicas) + ' to ' + string(object.spec.replicas)
    path: spec.replicas
    remediation: scale down with a reviewed change
  - id: request-seen
    title: Every request field is there
    severity: low
    action: warn
    appliesTo: [deployment, release]
    expression: 'false'
    messageExpression: >-
      [request.kind.group, request.kind.version, request.kind.kind, request.resource.resource,
       request.requestResource.resource, request.subResource, request.name, request.namespace,
       request.operation, request.userInfo.username, request.userInfo.groups.join('+'),
       string(request.dryRun), request.options == null ? 'no options' : request.options.kind,
       oldObject == null ? 'no oldObject' : 'oldObject'].join('|')
    remediation: none
`;

const config = parseConfig(CONFIG, 'test config');
const app = createApp({ config: () => config });

function withReplicas(n: number): Record<string, unknown> {
  const d = deploymentObject('shop', 'gloo-mesh');
  return { ...d, spec: { ...(d.spec as object), replicas: n } };
}

/** An UPDATE from `before` to `after` replicas, as the API server sends it. */
function update(before: number, after: number, dryRun = false): Record<string, unknown> {
  const review = objectReview(withReplicas(after), {
    operation: 'UPDATE',
    username: 'bob@example.com',
    dryRun,
  });
  (review.request as Record<string, unknown>).oldObject = withReplicas(before);
  return review;
}

async function validate(body: unknown) {
  const res = await request(app)
    .post('/validate')
    .send(body as object);
  expect(res.status).toBe(200);
  return res.body.response as { allowed: boolean; status?: { message: string }; warnings?: string[] };
}

describe('request and oldObject in rules, through the webhook', () => {
  it('when an UPDATE lowers the replicas, then the rule compares object with oldObject and names the user', async () => {
    const r = await validate(update(3, 1));
    expect(r.allowed).toBe(false);
    expect(r.status?.message).toContain(
      '[replicas-never-shrink] UPDATE by bob@example.com lowers replicas from 3 to 1 (spec.replicas) -> scale down with a reviewed change',
    );
    expect((await validate(update(1, 3))).allowed).toBe(true);
  });

  it('when a Deployment is created, then oldObject is null', async () => {
    const r = await validate(objectReview(withReplicas(1)));
    expect(r.allowed).toBe(true);
    expect(r.warnings?.join('\n')).toContain(
      '|CREATE|alice@example.com|system:authenticated|false|CreateOptions|no oldObject',
    );
  });

  it('when a request arrives, then every ValidatingAdmissionPolicy request field is there', async () => {
    const r = await validate(update(3, 4, true));
    expect(r.warnings?.join('\n')).toContain(
      '[request-seen] apps|v1|Deployment|deployments|deployments||shop|gloo-mesh|UPDATE|bob@example.com|system:authenticated|true|CreateOptions|oldObject',
    );
  });

  it("when the user's groups hold something other than strings, then the rules get only the strings", async () => {
    const review = objectReview(withReplicas(1));
    const user = (review.request as { userInfo: Record<string, unknown> }).userInfo;
    user.groups = ['devs', 7, null, 'ops'];
    const r = await validate(review);
    expect(r.warnings?.join('\n')).toContain('|CREATE|alice@example.com|devs+ops|false|');
    user.groups = 'devs';
    expect((await validate(review)).warnings?.join('\n')).toContain('|CREATE|alice@example.com||false|');
  });

  it('when a Helm release is created, then its rules get the request too, and no oldObject (the previous revision is another Secret)', async () => {
    const r = await validate(releaseReview({ values: PRODUCTION_VALUES }));
    expect(r.warnings?.join('\n')).toContain(
      '[request-seen] |v1|Secret|secrets|secrets||sh.helm.release.v1.gloo-mesh-enterprise.v1|gloo-mesh|CREATE|alice@example.com|system:authenticated|false|CreateOptions|no oldObject',
    );
  });
});

describe('request and oldObject in rules, through gloo-guard check', () => {
  let dir: string;
  const file = (name: string, content: unknown): string => {
    const p = join(dir, name);
    writeFileSync(p, typeof content === 'string' ? content : stringify(content));
    return p;
  };
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'gg-rules-admission-'));
  });

  it('when an AdmissionReview file is checked, then its request and oldObject reach the rules as in the webhook', () => {
    const r = cli(['check', '--config', file('config.yaml', CONFIG), file('review.yaml', update(3, 1))]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      '[replicas-never-shrink] UPDATE by bob@example.com lowers replicas from 3 to 1',
    );
  });

  it('when a plain manifest is checked, then oldObject is null and request has only kind, name and namespace', () => {
    const r = cli([
      'check',
      '--config',
      file('config.yaml', CONFIG),
      file('deployment.yaml', withReplicas(1)),
    ]);
    expect(r.code).toBe(0);
    // request.resource is not there outside admission: the messageExpression fails, and as in a
    // ValidatingAdmissionPolicy the static message stands in for it.
    expect(r.stdout).toContain('WARN [request-seen] failed expression: false (object) -> none');
    expect(r.stdout).not.toContain('replicas-never-shrink');
  });
});
