/** A small REST client for the Kubernetes API: auth and TLS from a kubeconfig, timeouts, paging, metadata-only lists. */
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { request as httpRequest } from 'node:http';
import type { ApiAccess } from './kubeconfig.js';

/** A kubeconfig that cannot be loaded; the message names the file and never quotes it. */
export class KubeConfigError extends Error {
  override name = 'KubeConfigError';
}

/** An API call that failed: unreachable, timed out, or answered with an error status. */
export class KubeApiError extends Error {
  override name = 'KubeApiError';
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** A parsed API answer. */
export interface KubeResponse {
  status: number;
  body: unknown;
}

/** Options for one call. */
export interface CallOptions {
  body?: unknown;
  /** `metadata` asks for PartialObjectMetadata: labels without specs or Secret data. */
  as?: 'metadata';
  contentType?: string;
}

const METADATA_ACCEPT =
  'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json';
/**
 * A watch streams single objects: asking for the List type there makes the API server fail to
 * encode every event ("the requested object is not a list") and end the watch. client-go's
 * metadata informers ask for this.
 */
const METADATA_WATCH_ACCEPT = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json';

/** Talks to one cluster; the only code that does so. */
export class KubeRest {
  readonly server: string;

  constructor(
    /** The server, TLS settings and credentials this client uses (kubeconfig.ts). */
    readonly access: ApiAccess,
    private readonly timeoutMs = 10_000,
  ) {
    this.server = access.server;
  }

  /**
   * Adds the kubeconfig's credentials and TLS settings. A kubeconfig the client cannot use (an
   * http:// server without insecure-skip-tls-verify, a failing exec plugin) is a KubeApiError naming
   * the server, with the first line of the reason only: later lines may quote the plugin's output.
   */
  private async authenticate(options: RequestOptions): Promise<void> {
    try {
      await this.access.apply(options);
    } catch (err: unknown) {
      const reason = (err instanceof Error ? err.message : String(err)).split('\n')[0]?.slice(0, 200) ?? '';
      throw new KubeApiError(`cannot use the kubeconfig's settings for ${this.server}: ${reason}`);
    }
  }

  /** One request; an error status (but 404, which the caller reads) becomes a KubeApiError. */
  async call(method: string, path: string, opts: CallOptions = {}): Promise<KubeResponse> {
    const url = new URL(this.server + path);
    const options: RequestOptions = {
      method,
      hostname: url.hostname,
      port: url.port,
      path: url.pathname + url.search,
      headers: {
        accept: opts.as === 'metadata' ? METADATA_ACCEPT : 'application/json',
        ...(opts.body !== undefined ? { 'content-type': opts.contentType ?? 'application/json' } : {}),
      },
      timeout: this.timeoutMs,
    };
    await this.authenticate(options);
    const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const res = await send(
      url.protocol === 'http:' ? 'http' : 'https',
      options,
      payload,
      `${method} ${this.server}${url.pathname}`,
      this.timeoutMs,
    );
    if (res.status >= 400 && res.status !== 404 && res.status !== 409) {
      const msg = (res.body as { message?: string } | undefined)?.message ?? `HTTP ${res.status}`;
      throw new KubeApiError(`${method} ${url.pathname}: ${msg}`, res.status);
    }
    return res;
  }

  /**
   * A streaming GET (a watch): calls `onLine` for each newline-delimited JSON line until the server
   * ends the stream, the signal aborts, or nothing arrives for 6 minutes. `onOpen` is called once
   * the API server has accepted the watch.
   */
  async stream(
    path: string,
    opts: { as?: 'metadata'; signal?: AbortSignal; onOpen?: () => void },
    onLine: (line: string) => void,
  ): Promise<void> {
    const url = new URL(this.server + path);
    const options: RequestOptions = {
      method: 'GET',
      hostname: url.hostname,
      port: url.port,
      path: url.pathname + url.search,
      headers: { accept: opts.as === 'metadata' ? METADATA_WATCH_ACCEPT : 'application/json' },
      timeout: 360_000,
      ...(opts.signal ? { signal: opts.signal } : {}),
    };
    await this.authenticate(options);
    const what = `watch ${url.pathname}`;
    await new Promise<void>((resolve, reject) => {
      const req = (url.protocol === 'http:' ? httpRequest : httpsRequest)(options, (res) => {
        if ((res.statusCode ?? 0) >= 300) {
          res.resume();
          reject(new KubeApiError(`${what}: HTTP ${res.statusCode ?? 0}`, res.statusCode));
          return;
        }
        opts.onOpen?.();
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buf += chunk;
          let nl: number;
          while ((nl = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, nl).trim();
            buf = buf.slice(nl + 1);
            if (!line) continue;
            try {
              onLine(line);
            } catch (err: unknown) {
              req.destroy(err instanceof Error ? err : new Error(String(err)));
              return;
            }
          }
        });
        res.on('end', () => resolve());
        res.on('error', (err) => reject(new KubeApiError(`${what}: ${err.message}`)));
      });
      req.on('timeout', () => req.destroy(new Error('no event for 6 minutes')));
      req.on('error', (err: NodeJS.ErrnoException) =>
        reject(err instanceof KubeApiError ? err : new KubeApiError(`${what}: ${err.message}`)),
      );
      req.end();
    });
  }

  /** Every item of a list, page by page (limit per page), so memory holds one page at a time. */
  async *list<T = unknown>(
    path: string,
    query: Record<string, string> = {},
    opts: { as?: 'metadata'; limit?: number } = {},
  ): AsyncGenerator<T> {
    let cont = '';
    do {
      const q = new URLSearchParams({
        ...query,
        limit: String(opts.limit ?? 250),
        ...(cont ? { continue: cont } : {}),
      });
      const res = await this.call('GET', `${path}?${q.toString()}`, opts.as ? { as: opts.as } : {});
      if (res.status === 404) return;
      const body = res.body as { items?: T[]; metadata?: { continue?: string } };
      for (const item of body.items ?? []) yield item;
      cont = body.metadata?.continue ?? '';
    } while (cont);
  }
}

function send(
  proto: 'http' | 'https',
  options: RequestOptions,
  payload: string | undefined,
  what: string,
  timeoutMs: number,
): Promise<KubeResponse> {
  return new Promise((resolve, reject) => {
    const req = (proto === 'http' ? httpRequest : httpsRequest)(options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = undefined;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          body = undefined;
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
      res.on('error', (err) => reject(new KubeApiError(`${what}: ${err.message}`)));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err: NodeJS.ErrnoException) =>
      reject(new KubeApiError(`${what}: ${err.code ?? ''} ${err.message}`.replace(/\s+/g, ' '))),
    );
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}
