/** `gloo-guard serve`: its help, its arguments, and the exit code of a start-up that failed. */
import { ConfigError } from '../config/load.js';
import { KubeApiError, KubeConfigError } from '../k8s/rest.js';
import { serve } from '../server/main.js';
import { TlsError } from '../server/tls.js';
import { UsageError } from './args.js';
import { parseServeArgs } from './serve-args.js';

const HELP = `usage: gloo-guard serve [--config FILE] [--port 8443] [--host 0.0.0.0] [--tls-cert FILE --tls-key FILE]

Runs the validating admission webhook over HTTPS (TLS 1.2 or later):
  POST /validate   admission.k8s.io/v1 AdmissionReviews
  GET  /healthz    the process is alive
  GET  /readyz     certificate loaded, config valid, not shutting down
  GET  /metrics    Prometheus metrics

options:
  --config FILE    gloo-guard config (YAML); reloaded when it changes (an invalid change is logged and ignored)
  --port N         port to listen on (default 8443; 0 picks a free port, logged at start-up)
  --host ADDR      address to listen on (default 0.0.0.0)
  --tls-cert FILE  serving certificate (PEM), reloaded when it changes; needs --tls-key
  --tls-key FILE   the certificate's private key (PEM)
  --log-level LEVEL  debug, info (default), warn or error; every denial, warning, error and release
                   decision is one line at info; an allowed review that found nothing in an ordinary
                   object (a Deployment, a Namespace) only at debug; warn keeps only problems
                   (rejected bodies, ignored reloads, lost cluster caches)
  --no-warm-up     start the thread that reads large releases on the first one, cold, instead of at
                   start-up warmed on a made-up release (saves about 25 MiB at idle; the first
                   ~1 MiB release after a start then takes about 200 ms instead of about 80)

cluster features (credentials: in-cluster service account, or KUBECONFIG):
  --cluster-view            watch namespaces, Deployments and the Gloo Mesh namespaces' Secret names, so
                            cluster-aware policies can judge (a lost connection is answered by onError)
  --audit-interval DURATION audit what already runs every DURATION (30s, 10m, 1h); off by default
  --policy-reports          write the audit's findings as PolicyReports where that CRD exists
  --reports-api GROUP       the reports' API: wgpolicyk8s.io (PolicyReport, default) or openreports.io (Report)
  --audit-releases SCOPE    where the audit reads Helm release Secrets: all (default), none, or a
                            comma-separated list of namespaces (what namespaced RBAC allows)
  --audit-lease NAME        audit only while holding this coordination.k8s.io Lease in --namespace, so
                            one replica audits and another takes over when it stops
  --audit-lease-duration DURATION  how long a silent holder keeps the Lease (default 30s)
  --watch-timeout DURATION  how long each cache watch lasts before it is resumed (default 5m)
  --self-managed-certs      create, share and rotate the serving certificate in a Secret, and keep the
                            webhook configuration's caBundle current; needs --tls-secret, --webhook-config,
                            --service and --namespace (default $POD_NAMESPACE)
  --tls-secret NAME  --webhook-config NAME  --service NAME  --namespace NS
  --cert-dns-name NAME      another DNS name for the self-managed certificate (repeatable)
  --cert-check-interval DURATION  how often the self-managed certificate is checked (default 1m)

The cluster features reach the API server as kubectl does: $KUBECONFIG, else ~/.kube/config, else
the pod's service account (its token is read again every minute).

Without --tls-cert and --tls-key (or --self-managed-certs), a CA and a serving certificate for localhost
are generated at start-up, and the path of the CA bundle is logged (use it with curl --cacert).`;

/** One line on stderr and the exit code for an error met before serving; anything else is a bug and is thrown. */
function startupFailure(err: unknown): number {
  if (err instanceof UsageError) {
    process.stderr.write(`gloo-guard serve: ${err.message}\n${HELP}\n`);
    return 2;
  }
  if (err instanceof ConfigError || err instanceof TlsError || err instanceof KubeConfigError) {
    process.stderr.write(`gloo-guard serve: ${err.message}\n`);
    return 2;
  }
  if (err instanceof KubeApiError) {
    process.stderr.write(`gloo-guard serve: cannot start the cluster features: ${err.message}\n`);
    return 1;
  }
  throw err;
}

/** Runs `gloo-guard serve`; resolves with the exit code once the server has stopped. */
export async function runServe(args: string[]): Promise<number> {
  try {
    const opts = parseServeArgs(args, HELP);
    return opts === undefined ? 0 : await serve(opts);
  } catch (err: unknown) {
    return startupFailure(err);
  }
}
