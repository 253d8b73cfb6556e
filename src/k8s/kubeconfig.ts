/**
 * Reading a kubeconfig, or a pod's service account, into what KubeRest needs to reach one API
 * server: its URL, TLS settings and credentials.
 *
 * The settings a pod's service account and most kubeconfigs use are read here: a server with its
 * CA (file or data), insecure-skip-tls-verify and tls-server-name; a token or token file, a client
 * certificate and key (files or data), basic auth and impersonation. A context whose user or cluster
 * has any other field (an exec plugin, an auth provider, a proxy) is handed to client-node's
 * KubeConfig, loaded only then: client-node and its generated API models add about 44 MiB to the
 * server's RSS, which a webhook in a pod never needs.
 *
 * Files are read as kubectl reads them: $KUBECONFIG (a list, the first file to name a cluster,
 * user, context or current-context wins), else ~/.kube/config, else the pod's service account.
 * Relative paths in a file are relative to that file's directory.
 */
import { existsSync, readFileSync } from 'node:fs';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent, type RequestOptions } from 'node:https';
import { isIPv6 } from 'node:net';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import { parse, YAMLParseError } from 'yaml';
import { KubeApiError, KubeConfigError } from './rest.js';

/** How KubeRest reaches one API server. */
export interface ApiAccess {
  /** The server's URL, without a trailing slash. */
  readonly server: string;
  /** Adds TLS settings and credentials to one request's options; throws when they cannot be used. */
  apply(options: RequestOptions): Promise<void>;
}

/** Where a pod's service account is mounted. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** How often a token file is read again (client-go's period: a projected token is rotated in place). */
export const TOKEN_FILE_PERIOD_MS = 60_000;

type Fields = Record<string, unknown>;

/** A field's text, or undefined when it is absent, empty or not text (kubectl reads "" as unset). */
function text(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** The fields of a cluster entry read here; another one hands the context to client-node. */
const CLUSTER_FIELDS = new Set([
  'server',
  'certificate-authority',
  'certificate-authority-data',
  'insecure-skip-tls-verify',
  'tls-server-name',
  'extensions',
]);

/** The fields of a user entry read here; another one (exec, auth-provider, as-groups...) hands the context to client-node. */
const USER_FIELDS = new Set([
  'token',
  'tokenFile',
  'client-certificate',
  'client-certificate-data',
  'client-key',
  'client-key-data',
  'username',
  'password',
  'as',
  'extensions',
]);

/** Fields holding a path, made absolute against the file's directory when read. */
const PATH_FIELDS = ['certificate-authority', 'client-certificate', 'client-key', 'tokenFile'];

/** Where to look, and the clock: parameters so tests can point them elsewhere. */
export interface KubeconfigEnv {
  env?: NodeJS.ProcessEnv;
  home?: string;
  serviceAccountDir?: string;
  now?: () => number;
}

/** One or more kubeconfig files merged (or a pod's service account): its contexts, and access to each. */
export class Kubeconfig {
  private readonly clusters = new Map<string, Fields>();
  private readonly users = new Map<string, Fields>();
  private readonly contextMap = new Map<string, { cluster: string; user?: string }>();
  private current?: string;

  private constructor(
    /** What was read, for messages: the file names, or the service account. */
    readonly source: string,
    private readonly now: () => number,
  ) {}

  /** Context names, in file order. */
  get contexts(): string[] {
    return [...this.contextMap.keys()];
  }

  /** The current-context, if one is set. */
  get currentContext(): string | undefined {
    return this.current;
  }

  /**
   * Access to the API server of `context` (the current one by default). A context that is missing
   * or names a cluster that is not there is a KubeApiError naming it, so an audit of several
   * contexts reports it for that context alone.
   */
  access(context: string | undefined = this.current): ApiAccess {
    if (context === undefined) throw new KubeApiError(`the kubeconfig ${this.source} has no current-context`);
    const ctx = this.contextMap.get(context);
    if (!ctx) throw new KubeApiError(`no context "${context}" in the kubeconfig ${this.source}`);
    const cluster = this.clusters.get(ctx.cluster);
    if (!cluster)
      throw new KubeApiError(
        `context "${context}" names cluster "${ctx.cluster}", which the kubeconfig does not have`,
      );
    const user = (ctx.user !== undefined ? this.users.get(ctx.user) : undefined) ?? {};
    const server = String(cluster.server).replace(/\/$/, '');
    const own =
      Object.keys(cluster).every((k) => CLUSTER_FIELDS.has(k)) &&
      Object.keys(user).every((k) => USER_FIELDS.has(k));
    return own ? directAccess(server, cluster, user, this.now) : this.delegated(server, context);
  }

  /** Access through client-node's KubeConfig, loaded on the first request, for credentials read only there. */
  private delegated(server: string, context: string): ApiAccess {
    const doc = {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [...this.clusters].map(([name, cluster]) => ({ name, cluster })),
      users: [...this.users].map(([name, user]) => ({ name, user })),
      contexts: [...this.contextMap].map(([name, context]) => ({ name, context })),
      'current-context': context,
    };
    type Applies = { applyToHTTPSOptions(o: RequestOptions): Promise<void> };
    let loading: Promise<Applies> | undefined;
    const load = async (): Promise<Applies> => {
      const { KubeConfig } = await import('@kubernetes/client-node');
      const kc = new KubeConfig();
      kc.loadFromString(JSON.stringify(doc));
      return kc;
    };
    return {
      server,
      apply: async (options) => {
        loading ??= load();
        await (await loading).applyToHTTPSOptions(options);
      },
    };
  }

  /** Adds one parsed file: names already read win, as in kubectl. */
  private add(file: string, doc: unknown): void {
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc))
      throw new KubeConfigError(
        `cannot load kubeconfig ${file}: it is empty or not a kubeconfig (kind: Config with clusters, users and contexts)`,
      );
    const d = doc as Fields;
    const dir = dirname(file);
    for (const [i, e] of entries(file, d, 'clusters')) {
      if (text(e.fields.server) === undefined)
        throw new KubeConfigError(`cannot load kubeconfig ${file}: clusters[${i}].cluster.server is missing`);
      setOnce(this.clusters, e.name, absolutePaths(e.fields, dir));
    }
    for (const [, e] of entries(file, d, 'users')) setOnce(this.users, e.name, absolutePaths(e.fields, dir));
    for (const [i, e] of entries(file, d, 'contexts')) {
      if (typeof e.fields.cluster !== 'string')
        throw new KubeConfigError(
          `cannot load kubeconfig ${file}: contexts[${i}].context.cluster is missing`,
        );
      const user = text(e.fields.user);
      setOnce(this.contextMap, e.name, { cluster: e.fields.cluster, ...(user ? { user } : {}) });
    }
    this.current ??= text(d['current-context']);
  }

  /** Reads `file`, else $KUBECONFIG, else ~/.kube/config, else the pod's service account. */
  static load(file?: string, where: KubeconfigEnv = {}): Kubeconfig {
    const env = where.env ?? process.env;
    const now = where.now ?? Date.now;
    const files =
      file !== undefined ? [file] : (env.KUBECONFIG ?? '').split(delimiter).filter((f) => f !== '');
    if (files.length === 0) {
      const home = join(where.home ?? homedir(), '.kube', 'config');
      if (existsSync(home)) files.push(home);
    }
    if (files.length > 0) {
      const kc = new Kubeconfig(files.join(delimiter), now);
      for (const f of files) kc.add(f, readYaml(f));
      return kc;
    }
    return Kubeconfig.inCluster(env, where.serviceAccountDir ?? SERVICE_ACCOUNT_DIR, now);
  }

  /** The pod's service account, as client-go's rest.InClusterConfig reads it. */
  private static inCluster(env: NodeJS.ProcessEnv, dir: string, now: () => number): Kubeconfig {
    const host = env.KUBERNETES_SERVICE_HOST ?? '';
    const port = env.KUBERNETES_SERVICE_PORT ?? '';
    const token = join(dir, 'token');
    if (host === '' || port === '' || !existsSync(token))
      throw new KubeConfigError(
        'cannot load kubeconfig (default): $KUBECONFIG is not set, ~/.kube/config does not exist, and this is ' +
          `not a pod (KUBERNETES_SERVICE_HOST and PORT, and ${token}); set KUBECONFIG (audit: --kubeconfig FILE)`,
      );
    const kc = new Kubeconfig(`the service account in ${dir}`, now);
    kc.clusters.set('in-cluster', {
      server: `https://${isIPv6(host) ? `[${host}]` : host}:${port}`,
      'certificate-authority': join(dir, 'ca.crt'),
    });
    kc.users.set('in-cluster', { tokenFile: token });
    kc.contextMap.set('in-cluster', { cluster: 'in-cluster', user: 'in-cluster' });
    kc.current = 'in-cluster';
    return kc;
  }
}

/** The named entries of one list (`clusters`, `users`, `contexts`), checked as kubectl checks them. */
function entries(
  file: string,
  doc: Fields,
  list: 'clusters' | 'users' | 'contexts',
): Array<[number, { name: string; fields: Fields }]> {
  const items = doc[list];
  if (items === undefined || items === null) return [];
  if (!Array.isArray(items))
    throw new KubeConfigError(`cannot load kubeconfig ${file}: ${list} is not a list`);
  const inner = list.slice(0, -1);
  return items.map((item: unknown, i) => {
    const e = (item ?? {}) as Fields;
    if (typeof e.name !== 'string' || e.name === '')
      throw new KubeConfigError(`cannot load kubeconfig ${file}: ${list}[${i}].name is missing`);
    const fields = e[inner] ?? (list === 'users' ? {} : undefined);
    if (fields === null || typeof fields !== 'object' || Array.isArray(fields))
      throw new KubeConfigError(`cannot load kubeconfig ${file}: ${list}[${i}].${inner} is missing`);
    return [i, { name: e.name, fields: fields as Fields }];
  });
}

function setOnce<V>(map: Map<string, V>, name: string, value: V): void {
  if (!map.has(name)) map.set(name, value);
}

function absolutePaths(fields: Fields, dir: string): Fields {
  const out = { ...fields };
  for (const k of PATH_FIELDS) {
    const v = text(out[k]);
    if (v !== undefined && !isAbsolute(v)) out[k] = join(dir, v);
  }
  return out;
}

/** A file's YAML; an error names the file and the position, never the text (a kubeconfig holds tokens and keys). */
function readYaml(file: string): unknown {
  let content: string;
  try {
    content = readFileSync(file, 'utf8');
  } catch (err: unknown) {
    const reason = (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
    throw new KubeConfigError(`cannot load kubeconfig ${file}: ${reason}`);
  }
  try {
    return parse(content);
  } catch (err: unknown) {
    const at =
      err instanceof YAMLParseError && err.linePos
        ? ` at line ${err.linePos[0].line}, column ${err.linePos[0].col}`
        : '';
    const code = err instanceof YAMLParseError ? ` (${err.code})` : '';
    throw new KubeConfigError(`cannot load kubeconfig ${file}: it is not valid YAML${at}${code}`);
  }
}

/** Bytes from a file or from base64 data, as the kubeconfig gives them (a file wins, as in kubectl). */
function material(fields: Fields, fileKey: string, dataKey: string): Buffer | undefined {
  const file = text(fields[fileKey]);
  if (file !== undefined) return readFileSync(file);
  const data = text(fields[dataKey]);
  return data !== undefined ? Buffer.from(data, 'base64') : undefined;
}

/** A token file read again once TOKEN_FILE_PERIOD_MS has passed. */
function tokenReader(file: string, now: () => number): () => string {
  let token = '';
  let readAt = -Infinity;
  return () => {
    if (now() - readAt > TOKEN_FILE_PERIOD_MS) {
      token = readFileSync(file, 'utf8').trim();
      readAt = now();
    }
    return token;
  };
}

/** TLS options and the one Agent every request of this access shares (no keep-alive, as before). */
interface Transport {
  tls: Pick<RequestOptions, 'ca' | 'cert' | 'key' | 'rejectUnauthorized' | 'servername'>;
  agent: HttpAgent;
}

function transport(server: string, cluster: Fields, user: Fields): Transport {
  const insecure = cluster['insecure-skip-tls-verify'] === true;
  if (server.startsWith('http:')) {
    if (!insecure)
      throw new Error('an http:// server needs insecure-skip-tls-verify: true in its cluster entry');
    return { tls: {}, agent: new HttpAgent() };
  }
  const ca = material(cluster, 'certificate-authority', 'certificate-authority-data');
  const cert = material(user, 'client-certificate', 'client-certificate-data');
  const key = material(user, 'client-key', 'client-key-data');
  const name = text(cluster['tls-server-name']);
  const tls = {
    ...(ca ? { ca } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
    ...(insecure ? { rejectUnauthorized: false } : {}),
    ...(name !== undefined ? { servername: name } : {}),
  };
  return { tls, agent: new HttpsAgent(tls) };
}

/** Access with the settings read here. TLS files are read on the first request, and again after one fails to. */
function directAccess(server: string, cluster: Fields, user: Fields, now: () => number): ApiAccess {
  let t: Transport | undefined;
  const [fixed, file, username, as] = [user.token, user.tokenFile, user.username, user.as].map(text);
  const token = fixed !== undefined ? () => fixed : file !== undefined ? tokenReader(file, now) : undefined;
  const basic = username !== undefined ? `${username}:${text(user.password) ?? ''}` : undefined;
  return {
    server,
    // A Promise whose executor throws is rejected: a missing CA or token file fails this request only.
    apply: (options) =>
      new Promise<void>((resolve) => {
        t ??= transport(server, cluster, user);
        Object.assign(options, t.tls, { agent: t.agent });
        const headers = (options.headers ??= {}) as Record<string, string>;
        const bearer = token?.();
        if (bearer) headers.authorization = `Bearer ${bearer}`;
        else if (basic !== undefined) options.auth = basic;
        if (as !== undefined) headers['impersonate-user'] = as;
        resolve();
      }),
  };
}
