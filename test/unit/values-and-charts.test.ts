import { describe, expect, it } from 'vitest';
import { chartFamily } from '../../src/engine/charts/adapters.js';
import { releaseFromValues } from '../../src/engine/subjects.js';
import { coalesce, getPath } from '../../src/engine/values.js';
import { imageTag, namespaceInjection, podInjection } from '../../src/policies/util.js';

describe('values', () => {
  it('when user values are coalesced onto defaults, then maps merge, scalars and lists replace, null deletes', () => {
    const base = { a: { b: 1, c: 2, l: [1, 2] }, d: 'x', e: { f: 1 } };
    expect(coalesce(base, { a: { b: 9, l: [3] }, d: null, e: 'flat' })).toEqual({
      a: { b: 9, c: 2, l: [3] },
      e: 'flat',
    });
    expect(base.a.b).toBe(1);
  });

  it('when a path crosses a scalar, then it reads undefined', () => {
    expect(getPath({ a: 'x' }, 'a.b')).toBeUndefined();
    expect(getPath({ 'rate-limiter': { enabled: true } }, 'rate-limiter.enabled')).toBe(true);
  });
});

describe('chart families', () => {
  it.each([
    ['gloo-mesh-enterprise', '2.0.11', 'gloo-mesh-enterprise'],
    ['gloo-mesh-enterprise', 'v2.2.6', 'gloo-mesh-enterprise'],
    ['gloo-mesh-enterprise', '1.2.9', undefined],
    ['gloo-mesh-agent', '2.1.0', 'gloo-mesh-agent'],
    ['gloo-platform', '2.3.18', 'gloo-platform'],
    ['gloo-platform', '2.14.0', 'gloo-platform'],
    ['gloo-platform', '2.2.0', undefined],
    ['gloo-platform-crds', '2.4.0', undefined],
    ['nginx', '2.0.0', undefined],
    ['gloo-platform', 'latest', undefined],
  ])('when the chart is %s %s, then its family is %s', (name, version, family) => {
    expect(chartFamily(name, version)).toBe(family);
  });

  it('when gloo-platform values enable the management server, then the model has that role and the assumed defaults', () => {
    const s = releaseFromValues({
      chart: 'gloo-platform',
      values: [{ glooMgmtServer: { enabled: true } }],
      source: { location: 'x' },
    })!;
    expect(s.model.roles).toEqual({ management: true, agent: false, addons: false });
    expect(s.model.redis?.enabled).toMatchObject({
      value: true,
      path: 'redis.deployment.enabled',
      ambiguous: false,
    });
    expect(s.model.prometheus?.enabled).toMatchObject({
      value: true,
      path: 'prometheus.enabled',
      ambiguous: false,
    });
  });

  it('when an image tag is empty, then the model uses the chart version', () => {
    const s = releaseFromValues({
      chart: 'gloo-mesh-agent',
      chartVersion: 'v2.0.11',
      values: [{}],
      source: { location: 'x' },
    })!;
    expect(s.model.agent?.image.tag).toEqual({ value: '2.0.11', path: 'glooMeshAgent.image.tag' });
  });
});

describe('Istio injection rules', () => {
  it.each([
    [{ 'istio-injection': 'enabled' }, 'enabled'],
    [{ 'istio.io/rev': '1-20' }, 'enabled'],
    [{ 'istio-injection': 'disabled', 'istio.io/rev': '1-20' }, 'disabled'],
    [{ 'istio-injection': 'enabled', 'istio.io/rev': '1-20' }, 'enabled'],
    [{}, 'unset'],
    [undefined, 'unset'],
  ])('when a namespace has labels %j, then injection is %s', (labels, want) => {
    expect(namespaceInjection(labels as Record<string, string> | undefined)).toBe(want);
  });

  it.each([
    [
      { labels: { 'sidecar.istio.io/inject': 'false' }, annotations: { 'sidecar.istio.io/inject': 'true' } },
      'disabled',
    ],
    [{ annotations: { 'sidecar.istio.io/inject': 'true' } }, 'enabled'],
    [{ annotations: { 'sidecar.istio.io/inject': 'yes' } }, 'unset'],
    [{ labels: { 'istio.io/rev': 'canary' } }, 'enabled'],
  ])('when a pod template has %j, then injection is %s', (meta, want) => {
    expect(podInjection(meta).injection).toBe(want);
  });

  it.each([
    ['gcr.io/gloo-mesh/gloo-mesh-agent:2.0.11-fips', '2.0.11-fips'],
    ['localhost:5000/gloo-mesh-agent', ''],
    ['localhost:5000/agent:1@sha256:abc', '1'],
  ])('when the image is %s, then its tag is %j', (image, tag) => {
    expect(imageTag(image)).toBe(tag);
  });
});
