/**
 * A metadata-only list+watch cache: client-node's ListWatch (the informer machinery) on our own
 * transport. It keeps name, namespace, labels and resourceVersion of each object, never specs or
 * Secret data, so memory stays small in a large cluster.
 *
 * Why our transport under ListWatch rather than client-node's Watch: that Watch cannot send the
 * Accept header that asks for PartialObjectMetadata (it would stream whole Deployments), and it
 * brings a second HTTP stack (node-fetch) beside KubeRest. ListWatch does the rest as client-go's
 * reflector does: it resumes each watch from the last resourceVersion it saw (bookmarks included)
 * and lists again only when the API server answers 410 Gone.
 */
import { ListWatch, Watch, type KubeConfig, type KubernetesListObject } from '@kubernetes/client-node';
import type { ObjectRef } from '../engine/types.js';
import { KubeApiError, type KubeRest } from './rest.js';
import { objectRef, type Meta } from './source.js';

/** What the cache keeps of an object: its metadata for ListWatch, and the same as an ObjectRef for readers. */
interface Slim extends ObjectRef {
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; resourceVersion?: string };
}

/** Logs what the cache does (lists, lost connections), never object contents. */
export type ReflectorLog = (level: 'info' | 'warn', msg: string, fields?: Record<string, unknown>) => void;

/** Told of each full list and each watch opened, so they can be counted (a full list is the costly one). */
export interface ReflectorHooks {
  listed?(path: string, objects: number, pages: number): void;
  watched?(path: string, resumed: boolean): void;
}

/** How the cache talks to the API server. */
export interface ReflectorOptions {
  /** Objects per page of a full list. */
  pageSize?: number;
  /** Seconds a watch request lasts before it is resumed (the API server ends it then). */
  watchTimeoutSeconds?: number;
}

function slim(o: Meta): Slim {
  const md = o.metadata ?? {};
  return {
    ...objectRef(o),
    metadata: {
      name: md.name ?? '',
      ...(md.namespace ? { namespace: md.namespace } : {}),
      ...(md.labels ? { labels: md.labels } : {}),
      ...(md.resourceVersion ? { resourceVersion: md.resourceVersion } : {}),
    },
  };
}

/** An error ListWatch reads: `code` 410 makes it list again, anything else is reported. */
function watchError(err: unknown): Error & { code?: number } {
  const e = err instanceof Error ? err : new Error(String(err));
  return Object.assign(
    e,
    err instanceof KubeApiError && err.status !== undefined ? { code: err.status } : {},
  );
}

/** client-node's Watch interface over KubeRest.stream, asking for single-object metadata with bookmarks. */
class MetadataWatch extends Watch {
  constructor(
    kc: KubeConfig,
    private readonly rest: KubeRest,
    private readonly owner: Reflector,
  ) {
    super(kc);
  }

  override watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    const controller = new AbortController();
    // ListWatch goes on to watch after a list even when stopped meanwhile: do not let it.
    if (this.owner.isStopped) return Promise.resolve(controller);
    const q = new URLSearchParams({ watch: '1', allowWatchBookmarks: 'true' });
    for (const [k, v] of Object.entries(queryParams)) if (v !== undefined && v !== '') q.set(k, String(v));
    q.set('timeoutSeconds', String(this.owner.watchTimeoutSeconds));
    const resumed = !this.owner.takeFreshList();
    this.rest
      .stream(
        `${path}?${q.toString()}`,
        { as: 'metadata', signal: controller.signal, onOpen: () => this.owner.watchOpened(resumed) },
        (line) => {
          const ev = JSON.parse(line) as { type: string; object: Meta & { code?: number } };
          callback(ev.type, ev.type === 'ERROR' ? ev.object : slim(ev.object));
        },
      )
      .then(
        () => controller.signal.aborted || done(null),
        (err: unknown) => controller.signal.aborted || done(watchError(err)),
      );
    return Promise.resolve(controller);
  }
}

/** A cache of one resource's metadata, kept current by a resumed watch; restarts with backoff on errors. */
export class Reflector {
  private readonly informer: ListWatch<Slim & { apiVersion?: string; kind?: string }>;
  private synced_ = false;
  private stopped = false;
  private backoffMs = 500;
  private retry?: NodeJS.Timeout;
  private snapshot?: readonly ObjectRef[];
  /** Cached objects by name, then `namespace/name`: kept on every event, so a lookup scans nothing. */
  private readonly byName = new Map<string, Map<string, ObjectRef>>();
  private freshList = false;
  readonly watchTimeoutSeconds: number;
  private readonly pageSize: number;

  constructor(
    private readonly rest: KubeRest,
    /** Collection path, e.g. `/apis/apps/v1/deployments`. */
    readonly path: string,
    private readonly log: ReflectorLog,
    private readonly hooks: ReflectorHooks = {},
    opts: ReflectorOptions = {},
  ) {
    this.pageSize = opts.pageSize ?? 500;
    this.watchTimeoutSeconds = opts.watchTimeoutSeconds ?? 300;
    this.informer = new ListWatch(
      path,
      new MetadataWatch(rest.kubeConfig, rest, this),
      () => this.listAll(),
      false,
    );
    const changed = (o: Slim, deleted = false): void => {
      this.snapshot = undefined;
      const key = `${o.namespace}/${o.name}`;
      const same = this.byName.get(o.name);
      if (deleted) {
        same?.delete(key);
        if (same?.size === 0) this.byName.delete(o.name);
      } else if (same) same.set(key, o);
      else this.byName.set(o.name, new Map([[key, o]]));
    };
    this.informer.on('add', (o) => changed(o));
    this.informer.on('update', (o) => changed(o));
    this.informer.on('delete', (o) => changed(o, true));
    this.informer.on('error', (err: unknown) => this.failed(err));
  }

  /** True once a list has arrived and no error has happened since (the watch is running or resuming). */
  get synced(): boolean {
    return this.synced_;
  }

  /** True after stop(). */
  get isStopped(): boolean {
    return this.stopped;
  }

  /** Every cached object (one shared array until the next change: a review copies nothing). */
  list(): readonly ObjectRef[] {
    this.snapshot ??= this.informer.list();
    return this.snapshot;
  }

  /** The cached objects with this name, in any namespace. */
  named(name: string): readonly ObjectRef[] {
    const same = this.byName.get(name);
    return same ? [...same.values()] : [];
  }

  /** One cached object by namespace and name. */
  get(namespace: string, name: string): ObjectRef | undefined {
    return this.informer.get(name, namespace || undefined);
  }

  /** Starts listing and watching in the background; resolves after the first list or the timeout. */
  start(firstSyncTimeoutMs = 10_000): Promise<boolean> {
    void this.informer.start();
    return new Promise((resolve) => {
      const started = Date.now();
      const tick = (): void => {
        if (this.synced || this.stopped || Date.now() - started > firstSyncTimeoutMs) resolve(this.synced);
        else setTimeout(tick, 50);
      };
      tick();
    });
  }

  /** Stops the watch and any retry. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.retry);
    void this.informer.stop();
  }

  /** True once after each full list: the next watch starts from it rather than resuming. */
  takeFreshList(): boolean {
    const fresh = this.freshList;
    this.freshList = false;
    return fresh;
  }

  /** Called by the watch when the API server accepted it. */
  watchOpened(resumed: boolean): void {
    this.synced_ = true;
    this.backoffMs = 500;
    this.hooks.watched?.(this.path, resumed);
  }

  private failed(err: unknown): void {
    if (this.stopped) return;
    this.synced_ = false;
    this.log('warn', `cache of ${this.path} lost its connection; retrying`, {
      error: err instanceof Error ? err.message : String(err),
      retryMs: this.backoffMs,
    });
    // ListWatch stops on an error other than 410; start() resumes from the last resourceVersion.
    this.retry = setTimeout(() => void this.informer.start(), this.backoffMs);
    this.retry.unref();
    this.backoffMs = Math.min(this.backoffMs * 2, 30_000);
  }

  /** A full list, page by page: one page of metadata in memory at a time besides the cache. */
  private async listAll(): Promise<KubernetesListObject<Slim & { apiVersion?: string; kind?: string }>> {
    const items: Slim[] = [];
    let resourceVersion = '';
    let cont = '';
    let pages = 0;
    do {
      if (this.stopped) throw new KubeApiError(`list ${this.path}: stopped`);
      const q = new URLSearchParams({ limit: String(this.pageSize), ...(cont ? { continue: cont } : {}) });
      const res = await this.rest.call('GET', `${this.path}?${q.toString()}`, { as: 'metadata' });
      if (res.status !== 200) throw new KubeApiError(`list ${this.path}: HTTP ${res.status}`, res.status);
      const body = res.body as { items?: Meta[]; metadata?: { resourceVersion?: string; continue?: string } };
      for (const o of body.items ?? []) items.push(slim(o));
      resourceVersion ||= body.metadata?.resourceVersion ?? '';
      cont = body.metadata?.continue ?? '';
      pages += 1;
    } while (cont);
    this.synced_ = true;
    this.snapshot = undefined;
    this.freshList = true;
    this.hooks.listed?.(this.path, items.length, pages);
    this.log('info', `cache of ${this.path} listed`, { objects: items.length, pages });
    return { metadata: { resourceVersion }, items };
  }
}
