import { describe, expect, it } from 'vitest';
import { all, FULLNAME, MAJORS, NAMESPACE, one, render, selects, type Json, type K8sObject } from './helm.js';

const deployment = (objs: K8sObject[]): K8sObject => one(objs, 'Deployment', FULLNAME);
const pod = (objs: K8sObject[]): Json => deployment(objs).spec.template.spec;
const container = (objs: K8sObject[]): Json => pod(objs).containers[0];

describe.each(MAJORS)('workload (helm %s)', (major) => {
  const objs = render(major);

  it('when rendered with defaults, then two replicas roll out without ever dropping below two', () => {
    const d = deployment(objs);
    expect(d.spec.replicas).toBe(2);
    expect(d.spec.strategy.rollingUpdate).toEqual({ maxUnavailable: 0, maxSurge: 1 });
    expect(pod(objs).containers).toHaveLength(1);
  });

  it('when rendered with defaults, then the pod meets the restricted Pod Security Standard', () => {
    const psc = pod(objs).securityContext;
    expect(psc.runAsNonRoot).toBe(true);
    expect(Number.isInteger(psc.runAsUser) && psc.runAsUser > 0).toBe(true);
    expect(Number.isInteger(psc.runAsGroup) && psc.runAsGroup > 0).toBe(true);
    expect(psc.seccompProfile).toEqual({ type: 'RuntimeDefault' });
    const csc = container(objs).securityContext;
    expect(csc.allowPrivilegeEscalation).toBe(false);
    expect(csc.readOnlyRootFilesystem).toBe(true);
    expect(csc.capabilities).toEqual({ drop: ['ALL'] });
    expect(csc.privileged).toBeUndefined();
    expect(pod(objs).hostNetwork).toBeUndefined();
  });

  it('when rendered with defaults, then requests and limits are set for CPU and memory', () => {
    const r = container(objs).resources;
    expect(Object.keys(r.requests).sort()).toEqual(['cpu', 'memory']);
    expect(Object.keys(r.limits).sort()).toEqual(['cpu', 'memory']);
  });

  it('when probed, then liveness, startup and readiness use the server endpoints over HTTPS on its port', () => {
    const c = container(objs);
    expect(c.ports).toEqual([{ name: 'https', containerPort: 8443, protocol: 'TCP' }]);
    expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'https', scheme: 'HTTPS' });
    expect(c.startupProbe.httpGet).toEqual({ path: '/healthz', port: 'https', scheme: 'HTTPS' });
    expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'https', scheme: 'HTTPS' });
  });

  it('when the root filesystem is read-only, then /tmp is a size-limited emptyDir and the config a read-only mount', () => {
    const c = container(objs);
    expect(c.volumeMounts).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
    expect(pod(objs).volumes).toContainEqual({ name: 'tmp', emptyDir: { sizeLimit: '64Mi' } });
    expect(c.volumeMounts).toContainEqual({
      name: 'config',
      mountPath: '/etc/gloo-guard/config',
      readOnly: true,
    });
    for (const m of c.volumeMounts) expect(m.subPath).toBeUndefined();
  });

  it('when scheduled, then replicas spread across nodes, softly by default and strictly on request', () => {
    const [spread] = pod(objs).topologySpreadConstraints;
    expect(spread).toMatchObject({
      maxSkew: 1,
      topologyKey: 'kubernetes.io/hostname',
      whenUnsatisfiable: 'ScheduleAnyway',
    });
    expect(selects(spread.labelSelector, deployment(objs).spec.template.metadata.labels)).toBe(true);
    const strict = render(major, { values: ['ci/provided-cert-values.yaml'] });
    expect(pod(strict).topologySpreadConstraints[0].whenUnsatisfiable).toBe('DoNotSchedule');
  });

  it('when stopping, then the pod keeps serving for the preStop sleep, within its grace period', () => {
    expect(container(objs).lifecycle).toEqual({ preStop: { sleep: { seconds: 5 } } });
    expect(pod(objs).terminationGracePeriodSeconds).toBe(30);
    expect(container(render(major, { set: ['preStopSleepSeconds=0'] })).lifecycle).toBeUndefined();
  });

  it('when the config changes, then the pod template changes (checksum), and not for unrelated values', () => {
    const sum = (o: K8sObject[]): string =>
      deployment(o).spec.template.metadata.annotations['checksum/config'];
    expect(sum(objs)).toMatch(/^[0-9a-f]{64}$/);
    expect(sum(render(major, { set: ['mode=audit'] }))).not.toBe(sum(objs));
    expect(sum(render(major, { set: ['policies.fips-images.action=deny'] }))).not.toBe(sum(objs));
    expect(sum(render(major, { set: ['replicas=3'] }))).toBe(sum(objs));
  });

  it('when the Service is called on 443, then it reaches the pods on the https port 8443', () => {
    const svc = one(objs, 'Service', FULLNAME);
    expect(svc.spec.type).toBe('ClusterIP');
    expect(svc.spec.ports).toEqual([{ name: 'https', port: 443, targetPort: 'https', protocol: 'TCP' }]);
    expect(selects({ matchLabels: svc.spec.selector }, deployment(objs).spec.template.metadata.labels)).toBe(
      true,
    );
  });

  it('when there are two replicas, then a PodDisruptionBudget keeps one up; with one replica there is none', () => {
    const pdb = one(objs, 'PodDisruptionBudget', FULLNAME);
    expect(pdb.spec.minAvailable).toBe(1);
    expect(pdb.spec.unhealthyPodEvictionPolicy).toBe('AlwaysAllow');
    expect(selects(pdb.spec.selector, deployment(objs).spec.template.metadata.labels)).toBe(true);
    expect(all(render(major, { set: ['replicas=1'] }), 'PodDisruptionBudget')).toEqual([]);
    expect(all(render(major, { set: ['podDisruptionBudget.enabled=false'] }), 'PodDisruptionBudget')).toEqual(
      [],
    );
  });

  it('when an image digest is given, then it pins the image; else the tag defaults to the appVersion', () => {
    expect(container(objs).image).toBe('ghcr.io/gloo-guard/gloo-guard:0.1.0');
    const digest = `sha256:${'a'.repeat(64)}`;
    expect(container(render(major, { set: [`image.digest=${digest}`] })).image).toBe(
      `ghcr.io/gloo-guard/gloo-guard@${digest}`,
    );
  });

  it('when ServiceMonitor and NetworkPolicy are off (default), then neither is rendered', () => {
    expect(all(objs, 'ServiceMonitor')).toEqual([]);
    expect(all(objs, 'NetworkPolicy')).toEqual([]);
  });

  it('when the ServiceMonitor is on, then it scrapes /metrics over HTTPS and verifies with ca.crt', () => {
    const sm = one(render(major, { values: ['ci/cert-manager-values.yaml'] }), 'ServiceMonitor', FULLNAME);
    expect(sm.metadata.labels.release).toBe('prometheus');
    expect(sm.spec.endpoints).toEqual([
      {
        port: 'https',
        scheme: 'https',
        path: '/metrics',
        interval: '30s',
        scrapeTimeout: '10s',
        tlsConfig: {
          serverName: `${FULLNAME}.${NAMESPACE}.svc`,
          ca: { secret: { name: `${FULLNAME}-tls`, key: 'ca.crt' } },
        },
      },
    ]);
  });

  it('when the NetworkPolicy is on, then only the webhook port is open, to the given peers', () => {
    const np = one(render(major, { values: ['ci/cert-manager-values.yaml'] }), 'NetworkPolicy', FULLNAME);
    expect(np.spec.policyTypes).toEqual(['Ingress']);
    expect(np.spec.ingress).toHaveLength(1);
    expect(np.spec.ingress[0].ports).toEqual([{ port: 8443, protocol: 'TCP' }]);
    expect(np.spec.ingress[0].from).toHaveLength(2);
    const egress = one(
      render(major, {
        set: ['networkPolicy.enabled=true'],
        setJson: ['networkPolicy.egress=[{"ports":[{"port":53,"protocol":"UDP"}]}]'],
      }),
      'NetworkPolicy',
    );
    expect(egress.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(egress.spec.egress).toEqual([{ ports: [{ port: 53, protocol: 'UDP' }] }]);
  });
});
