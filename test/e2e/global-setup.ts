// Starts one real kube-apiserver + etcd for the whole e2e run and stops it afterwards, even on failure.
import type { TestProject } from 'vitest/node';
import type { Cluster } from './cluster/cluster.js';
import { buildGlooGuard, startE2eCluster } from './support.js';

let cluster: Cluster | undefined;

export async function setup(project: TestProject): Promise<void> {
  // The webhook and the CLI run compiled, as the image runs them (with the offload worker thread).
  buildGlooGuard();
  const started = Date.now();
  cluster = await startE2eCluster();
  process.stderr.write(
    `[e2e] cluster ready at ${cluster.server} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
  );
  project.provide('cluster', {
    kubeconfigPath: cluster.kubeconfigPath,
    server: cluster.server,
    caPem: cluster.caPem,
    servingCertPem: cluster.servingCertPem,
    servingKeyPem: cluster.servingKeyPem,
  });
}

export async function teardown(): Promise<void> {
  await cluster?.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    cluster: {
      kubeconfigPath: string;
      server: string;
      caPem: string;
      servingCertPem: string;
      servingKeyPem: string;
    };
  }
}
