import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import {
  all,
  CHART_DIR,
  FULLNAME,
  MAJORS,
  NAMESPACE,
  one,
  render,
  renderError,
  type Json,
  type K8sObject,
} from './helm.js';

const RBAC_KINDS = ['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding'];
const rbac = (objs: K8sObject[]): K8sObject[] => objs.filter((o) => RBAC_KINDS.includes(o.kind));
const pod = (objs: K8sObject[]): Json => one(objs, 'Deployment', FULLNAME).spec.template.spec;
const args = (objs: K8sObject[]): string[] => pod(objs).containers[0].args;
const SA = { kind: 'ServiceAccount', name: FULLNAME, namespace: NAMESPACE };
const PROVIDED_CA: string = parse(readFileSync(join(CHART_DIR, 'ci', 'provided-cert-values.yaml'), 'utf8'))
  .certificates.provided.caBundle;

/** Every binding points at a role of this render and at our ServiceAccount only. */
function expectBindingsSound(objs: K8sObject[]): void {
  for (const b of objs.filter((o) => o.kind.endsWith('Binding'))) {
    expect(b.subjects).toEqual([SA]);
    // A RoleBinding refers to the Role of its own namespace; a ClusterRoleBinding to the ClusterRole.
    const ns = b.kind === 'RoleBinding' ? b.metadata.namespace : undefined;
    const targets = objs.filter(
      (o) => o.kind === b.roleRef.kind && o.metadata.name === b.roleRef.name && o.metadata.namespace === ns,
    );
    expect(targets, `${b.kind} ${b.metadata.name} refers to one ${b.roleRef.kind}`).toHaveLength(1);
  }
}

describe.each(MAJORS)('RBAC and certificates (helm %s)', (major) => {
  describe('selfManaged (default)', () => {
    const objs = render(major);

    it('when rendered, then the server may get and patch only its Secret and its webhook configuration, by name', () => {
      expect(one(objs, 'Role', `${FULLNAME}-certs`).rules).toEqual([
        {
          apiGroups: [''],
          resources: ['secrets'],
          resourceNames: [`${FULLNAME}-tls`],
          verbs: ['get', 'patch'],
        },
      ]);
      expect(one(objs, 'ClusterRole', `${FULLNAME}-webhook-ca`).rules).toEqual([
        {
          apiGroups: ['admissionregistration.k8s.io'],
          resources: ['validatingwebhookconfigurations'],
          resourceNames: [FULLNAME],
          verbs: ['get', 'patch'],
        },
      ]);
      expect(
        rbac(objs)
          .map((o) => `${o.kind}/${o.metadata.name}`)
          .sort(),
      ).toEqual([
        `ClusterRole/${FULLNAME}-webhook-ca`,
        `ClusterRoleBinding/${FULLNAME}-webhook-ca`,
        `Role/${FULLNAME}-certs`,
        `RoleBinding/${FULLNAME}-certs`,
      ]);
      expectBindingsSound(objs);
    });

    it('when rendered, then the chart creates the Secret empty, so no create permission is needed', () => {
      const secret = one(objs, 'Secret', `${FULLNAME}-tls`);
      expect(secret.type).toBe('Opaque');
      expect(secret.data).toBeUndefined();
      expect(secret.stringData).toBeUndefined();
    });

    it('when rendered, then the server gets the self-managed flags naming those objects, and an API token', () => {
      expect(args(objs)).toEqual([
        'serve',
        '--config',
        '/etc/gloo-guard/config/config.yaml',
        '--port',
        '8443',
        '--log-level',
        'info',
        '--self-managed-certs',
        '--tls-secret',
        `${FULLNAME}-tls`,
        '--webhook-config',
        FULLNAME,
        '--service',
        FULLNAME,
        '--namespace',
        NAMESPACE,
      ]);
      expect(one(objs, 'Service', FULLNAME)).toBeDefined();
      expect(one(objs, 'ValidatingWebhookConfiguration', FULLNAME)).toBeDefined();
      expect(pod(objs).automountServiceAccountToken).toBe(true);
      expect(one(objs, 'ServiceAccount', FULLNAME).automountServiceAccountToken).toBe(false);
      expect(pod(objs).volumes.map((v: Json) => v.name)).not.toContain('tls');
    });

    it('when rendered, then the webhooks carry no caBundle and no injection annotation: the server patches it', () => {
      const vwc = one(objs, 'ValidatingWebhookConfiguration', FULLNAME);
      expect(vwc.metadata.annotations).toBeUndefined();
      for (const w of vwc.webhooks) expect(w.clientConfig.caBundle).toBeUndefined();
    });
  });

  describe('certManager', () => {
    const objs = render(major, { values: ['ci/cert-manager-values.yaml'] });

    it('when rendered, then a self-signed root, a CA and a CA Issuer issue the serving certificate for the Service names', () => {
      expect(one(objs, 'Issuer', `${FULLNAME}-selfsigned`).spec).toEqual({ selfSigned: {} });
      const ca = one(objs, 'Certificate', `${FULLNAME}-ca`);
      expect(ca.spec).toMatchObject({ isCA: true, secretName: `${FULLNAME}-ca` });
      expect(ca.spec.issuerRef.name).toBe(`${FULLNAME}-selfsigned`);
      expect(one(objs, 'Issuer', `${FULLNAME}-ca`).spec).toEqual({ ca: { secretName: `${FULLNAME}-ca` } });
      const serving = one(objs, 'Certificate', `${FULLNAME}-serving`);
      expect(serving.spec.secretName).toBe(`${FULLNAME}-tls`);
      expect(serving.spec.dnsNames).toEqual([
        FULLNAME,
        `${FULLNAME}.${NAMESPACE}`,
        `${FULLNAME}.${NAMESPACE}.svc`,
        `${FULLNAME}.${NAMESPACE}.svc.cluster.local`,
      ]);
      expect(serving.spec.issuerRef).toEqual({
        group: 'cert-manager.io',
        kind: 'Issuer',
        name: `${FULLNAME}-ca`,
      });
      expect(serving.spec.usages).toEqual(['server auth', 'digital signature']);
    });

    it('when rendered, then cert-manager injects the CA from that Certificate into the webhook configuration', () => {
      const vwc = one(objs, 'ValidatingWebhookConfiguration', FULLNAME);
      expect(vwc.metadata.annotations).toEqual({
        'cert-manager.io/inject-ca-from': `${NAMESPACE}/${FULLNAME}-serving`,
      });
      for (const w of vwc.webhooks) expect(w.clientConfig.caBundle).toBeUndefined();
    });

    it('when rendered, then the pod mounts the Secret as a directory and has no RBAC and no API token', () => {
      expect(rbac(objs)).toEqual([]);
      expect(all(objs, 'Secret')).toEqual([]);
      expect(pod(objs).automountServiceAccountToken).toBe(false);
      expect(pod(objs).volumes).toContainEqual({
        name: 'tls',
        secret: { secretName: `${FULLNAME}-tls`, defaultMode: 0o440 },
      });
      expect(pod(objs).containers[0].volumeMounts).toContainEqual({
        name: 'tls',
        mountPath: '/etc/gloo-guard/tls',
        readOnly: true,
      });
      expect(args(objs).slice(7)).toEqual([
        '--tls-cert',
        '/etc/gloo-guard/tls/tls.crt',
        '--tls-key',
        '/etc/gloo-guard/tls/tls.key',
      ]);
    });

    it('when an existing issuer is named, then the chart makes no issuers of its own and uses it', () => {
      const custom = render(major, {
        set: ['certificates.mode=certManager'],
        setJson: [
          'certificates.certManager.issuerRef={"name":"corp-ca","kind":"ClusterIssuer","group":"cert-manager.io"}',
        ],
      });
      expect(all(custom, 'Issuer')).toEqual([]);
      expect(all(custom, 'Certificate').map((c) => c.metadata.name)).toEqual([`${FULLNAME}-serving`]);
      expect(one(custom, 'Certificate').spec.issuerRef).toEqual({
        name: 'corp-ca',
        kind: 'ClusterIssuer',
        group: 'cert-manager.io',
      });
    });
  });

  describe('provided', () => {
    const objs = render(major, { values: ['ci/provided-cert-values.yaml'] });

    it('when rendered, then every webhook trusts the given CA and the pod serves the named Secret', () => {
      const vwc = one(objs, 'ValidatingWebhookConfiguration', FULLNAME);
      for (const w of vwc.webhooks) {
        expect(Buffer.from(w.clientConfig.caBundle, 'base64').toString('utf8')).toBe(PROVIDED_CA);
      }
      expect(pod(objs).volumes).toContainEqual({
        name: 'tls',
        secret: { secretName: 'gloo-guard-serving-cert', defaultMode: 0o440 },
      });
      expect(all(objs, 'Secret')).toEqual([]);
      expect(all(objs, 'Certificate')).toEqual([]);
      expect(rbac(objs)).toEqual([]);
      expect(pod(objs).automountServiceAccountToken).toBe(false);
    });

    it('when the Secret name or the CA is missing, then rendering fails naming what is missing', () => {
      const err = renderError(major, { set: ['certificates.mode=provided'] });
      expect(err).toMatch(/secretName/);
      expect(err).toMatch(/caBundle/);
    });
  });

  describe('audit', () => {
    const secretAccess = (objs: K8sObject[]): string[] =>
      rbac(objs)
        .filter((o) => o.kind.endsWith('Role') && !o.metadata.name.endsWith('-certs'))
        .filter((o) => o.rules.some((r: Json) => r.resources.includes('secrets')))
        .map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`)
        .sort();

    it('when the audit is enabled, then it may list and watch what it judges, read release Secrets only where Gloo Mesh releases live, and hold its Lease', () => {
      const objs = render(major, { values: ['ci/audit-values.yaml'] });
      expect(one(objs, 'ClusterRole', `${FULLNAME}-audit`).rules).toEqual([
        { apiGroups: [''], resources: ['namespaces', 'services'], verbs: ['list', 'watch'] },
        { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'] },
        { apiGroups: ['wgpolicyk8s.io'], resources: ['policyreports'], verbs: ['create', 'list'] },
        {
          apiGroups: ['wgpolicyk8s.io'],
          resources: ['policyreports'],
          resourceNames: ['gloo-guard'],
          verbs: ['get', 'update', 'delete'],
        },
      ]);
      const releaseRoles = objs.filter(
        (o) => o.kind === 'Role' && o.metadata.name === `${FULLNAME}-audit-releases`,
      );
      expect(releaseRoles.map((r) => r.metadata.namespace).sort()).toEqual(['gloo-mesh', 'gloo-mesh-addons']);
      for (const r of releaseRoles)
        expect(r.rules).toEqual([{ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list'] }]);
      expect(one(objs, 'Role', `${FULLNAME}-audit-lease`).rules).toEqual([
        {
          apiGroups: ['coordination.k8s.io'],
          resources: ['leases'],
          resourceNames: [`${FULLNAME}-audit`],
          verbs: ['get', 'update'],
        },
      ]);
      expect(one(objs, 'Lease', `${FULLNAME}-audit`).spec).toEqual({});
      expect(args(objs).join(' ')).toContain(
        `--audit-releases gloo-mesh,gloo-mesh-addons --audit-lease ${FULLNAME}-audit`,
      );
      expectBindingsSound(objs);
      expect(pod(objs).automountServiceAccountToken).toBe(true);
    });

    it('when more release namespaces are named, then each gets its Role and the audit reads them', () => {
      const objs = render(major, {
        set: ['audit.enabled=true', 'audit.releaseNamespaces={team-a,gloo-mesh}'],
      });
      expect(secretAccess(objs)).toEqual(
        ['gloo-mesh', 'gloo-mesh-addons', 'team-a']
          .map((ns) => `Role/${ns}/${FULLNAME}-audit-releases`)
          .sort(),
      );
      expect(args(objs).join(' ')).toContain('--audit-releases gloo-mesh,gloo-mesh-addons,team-a');
    });

    it('when Secrets everywhere are asked for, then one ClusterRole may get and list them, and the audit reads all', () => {
      const objs = render(major, { set: ['audit.enabled=true', 'audit.releaseSecretsClusterWide=true'] });
      expect(secretAccess(objs)).toEqual([`ClusterRole//${FULLNAME}-audit`]);
      expect(one(objs, 'ClusterRole', `${FULLNAME}-audit`).rules).toContainEqual({
        apiGroups: [''],
        resources: ['secrets'],
        verbs: ['get', 'list'],
      });
      expect(args(objs).join(' ')).toContain('--audit-releases all');
    });

    it('when release Secrets and PolicyReports are not wanted, then no Secret may be read and the audit is told to read none', () => {
      const objs = render(major, {
        set: [
          'audit.enabled=true',
          'audit.releaseSecrets=false',
          'audit.gitops=false',
          'audit.policyReports=false',
        ],
      });
      expect(secretAccess(objs)).toEqual([]);
      const rules = one(objs, 'ClusterRole', `${FULLNAME}-audit`).rules;
      expect(rules.flatMap((r: Json) => r.resources).sort()).toEqual([
        'deployments',
        'namespaces',
        'services',
      ]);
      expect(args(objs).join(' ')).toContain('--audit-releases none');
    });

    it('when the cluster serves Argo CD and Flux, then the audit may list Applications and HelmReleases', () => {
      const objs = render(major, {
        values: ['ci/audit-values.yaml'],
        apiVersions: ['argoproj.io/v1alpha1/Application', 'helm.toolkit.fluxcd.io/v2/HelmRelease'],
      });
      const rules = one(objs, 'ClusterRole', `${FULLNAME}-audit`).rules;
      expect(rules).toContainEqual({
        apiGroups: ['argoproj.io'],
        resources: ['applications'],
        verbs: ['list'],
      });
      expect(rules).toContainEqual({
        apiGroups: ['helm.toolkit.fluxcd.io'],
        resources: ['helmreleases'],
        verbs: ['list'],
      });
    });

    it('when certificates come from cert-manager and the audit is on, then the audit roles are the only RBAC', () => {
      const objs = render(major, { set: ['certificates.mode=certManager', 'audit.enabled=true'] });
      expect(
        rbac(objs)
          .map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`)
          .sort(),
      ).toEqual(
        [
          `ClusterRole//${FULLNAME}-audit`,
          `ClusterRoleBinding//${FULLNAME}-audit`,
          `Role//${FULLNAME}-audit-lease`,
          `Role/gloo-mesh-addons/${FULLNAME}-audit-releases`,
          `Role/gloo-mesh/${FULLNAME}-audit-releases`,
          `RoleBinding//${FULLNAME}-audit-lease`,
          `RoleBinding/gloo-mesh-addons/${FULLNAME}-audit-releases`,
          `RoleBinding/gloo-mesh/${FULLNAME}-audit-releases`,
        ].sort(),
      );
      expect(args(objs).join(' ')).toContain(`--audit-lease ${FULLNAME}-audit --namespace ${NAMESPACE}`);
      expect(pod(objs).automountServiceAccountToken).toBe(true);
    });
  });

  describe('cluster view', () => {
    it("when the cluster view is on, then the server watches namespace and Deployment metadata and the Gloo Mesh namespaces' Secrets, and nothing more", () => {
      const objs = render(major, { set: ['certificates.mode=certManager', 'clusterView.enabled=true'] });
      expect(one(objs, 'ClusterRole', `${FULLNAME}-cluster-view`).rules).toEqual([
        { apiGroups: [''], resources: ['namespaces'], verbs: ['list', 'watch'] },
        { apiGroups: ['apps'], resources: ['deployments'], verbs: ['list', 'watch'] },
      ]);
      const roles = objs.filter((o) => o.kind === 'Role' && o.metadata.name === `${FULLNAME}-cluster-view`);
      expect(roles.map((r) => r.metadata.namespace).sort()).toEqual(['gloo-mesh', 'gloo-mesh-addons']);
      for (const r of roles)
        expect(r.rules).toEqual([{ apiGroups: [''], resources: ['secrets'], verbs: ['list', 'watch'] }]);
      expectBindingsSound(objs);
      expect(pod(objs).containers[0].args).toContain('--cluster-view');
      expect(pod(objs).automountServiceAccountToken).toBe(true);
    });

    it('when the audit is on, then the server runs it at the configured interval and writes PolicyReports', () => {
      const args = pod(render(major, { values: ['ci/cluster-aware-values.yaml'] })).containers[0].args;
      expect(args.join(' ')).toContain('--cluster-view --audit-interval 5m');
      expect(args).toContain('--policy-reports');
    });
  });

  it.each([
    'ci/default-values.yaml',
    'ci/audit-values.yaml',
    'ci/cluster-aware-values.yaml',
    'ci/cert-manager-values.yaml',
    'ci/provided-cert-values.yaml',
  ])(
    'when %s is rendered, then no rule uses a wildcard, and writes touch only named objects or PolicyReports',
    (file) => {
      for (const role of render(major, { values: [file] }).filter((o) => o.kind.endsWith('Role'))) {
        for (const rule of role.rules) {
          for (const field of ['apiGroups', 'resources', 'verbs']) expect(rule[field]).not.toContain('*');
          const writes = rule.verbs.filter((v: string) => !['get', 'list', 'watch'].includes(v));
          if (writes.length === 0) continue;
          if (rule.resources.includes('policyreports')) continue;
          expect(writes).toEqual(rule.resources.includes('leases') ? ['update'] : ['patch']);
          expect(rule.resourceNames).toHaveLength(1);
        }
      }
    },
  );
});
