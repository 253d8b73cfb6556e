/**
 * A metadata-only list+watch cache, as client-go's reflector keeps one: list once, then watch from
 * the list's resourceVersion, resume each watch from the last resourceVersion seen (bookmarks
 * included), and list again only when the API server answers 410 Gone. It keeps name, namespace and
 * labels of each object, never specs or Secret data, so memory stays small in a large cluster.
 *
 * The watch asks for PartialObjectMetadata (client-node's Watch cannot send that Accept header, and
 * would stream whole Deployments), through the one HTTP client of k8s/ (KubeRest).
 */
import type { ObjectRef } from '../engine/types.js';
import { KubeApiError, type KubeRest } from './rest.js';
import { objectRef, type Meta } from './source.js';

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

/** A watch that ends sooner than this with no event is an error (client-go's "very short watch"). */
const SHORT_WATCH_MS = 1_000;

/** A watch event as the API server streams it. */
interface WatchEvent {
  type: string;
  object: Meta & { code?: number };
}

/** The cache's key of an object: `namespace/name` (namespace '' when cluster-scoped). */
function keyOf(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/** True for the API server's 410 Gone: the resourceVersion is too old to resume from, list again. */
function gone(err: unknown): boolean {
  return err instanceof KubeApiError && err.status === 410;
}

/** A cache of one resource's metadata, kept current by a resumed watch; restarts with backoff on errors. */
export class Reflector {
  /** Cached objects by `namespace/name`. */
  private readonly objects = new Map<string, ObjectRef>();
  /** The same objects by name, then `namespace/name`: kept on every event, so a lookup scans nothing. */
  private readonly byName = new Map<string, Map<string, ObjectRef>>();
  private resourceVersion = '';
  private synced_ = false;
  private stopped = false;
  private running = false;
  private backoffMs = 500;
  private retry?: NodeJS.Timeout;
  private watching?: AbortController;
  private snapshot?: readonly ObjectRef[];
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
    this.snapshot ??= [...this.objects.values()];
    return this.snapshot;
  }

  /** The cached objects with this name, in any namespace. */
  named(name: string): readonly ObjectRef[] {
    const same = this.byName.get(name);
    return same ? [...same.values()] : [];
  }

  /** One cached object by namespace ('' when cluster-scoped) and name. */
  get(namespace: string, name: string): ObjectRef | undefined {
    return this.objects.get(keyOf(namespace, name));
  }

  /** Starts listing and watching in the background; resolves after the first list or the timeout. */
  start(firstSyncTimeoutMs = 10_000): Promise<boolean> {
    void this.run();
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
    this.watching?.abort();
  }

  /**
   * Lists when there is no resourceVersion to resume from, then watches, and resumes each watch the
   * API server ends. Returns on stop(), or on an error, after which it runs again with backoff.
   */
  private async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (!this.stopped) {
        const fresh = this.resourceVersion === '';
        if (fresh) await this.listAll();
        if (this.stopped) return;
        try {
          await this.watch(!fresh);
        } catch (err: unknown) {
          if (!gone(err)) throw err;
          // The resourceVersion is too old to resume from: list again now, as client-go does.
          this.resourceVersion = '';
        }
      }
    } catch (err: unknown) {
      this.failed(err);
    } finally {
      this.running = false;
    }
  }

  /** One watch from the current resourceVersion, until the API server ends it. */
  private async watch(resumed: boolean): Promise<void> {
    const q = new URLSearchParams({
      watch: '1',
      allowWatchBookmarks: 'true',
      resourceVersion: this.resourceVersion,
      timeoutSeconds: String(this.watchTimeoutSeconds),
    });
    const controller = new AbortController();
    this.watching = controller;
    const started = Date.now();
    let events = 0;
    try {
      await this.rest.stream(
        `${this.path}?${q.toString()}`,
        { as: 'metadata', signal: controller.signal, onOpen: () => this.watchOpened(resumed) },
        (line) => {
          events += 1;
          this.event(JSON.parse(line) as WatchEvent);
        },
      );
    } catch (err: unknown) {
      if (!controller.signal.aborted) throw err;
      return;
    }
    // client-go's "very short watch": one that ends at once with nothing in it is an error, retried
    // with backoff, not a reason to ask again at once and forever.
    if (events === 0 && Date.now() - started < SHORT_WATCH_MS && !this.stopped)
      throw new KubeApiError(`watch ${this.path}: ended at once with no event`);
  }

  /** One event: the cache changes, and the resourceVersion moves on (an ERROR 410 clears it: list again). */
  private event(ev: WatchEvent): void {
    if (ev.type === 'ERROR') {
      if (ev.object.code === 410) this.resourceVersion = '';
      return;
    }
    if (ev.type === 'ADDED' || ev.type === 'MODIFIED') this.put(objectRef(ev.object));
    else if (ev.type === 'DELETED') this.remove(objectRef(ev.object));
    this.resourceVersion = ev.object.metadata?.resourceVersion || this.resourceVersion;
  }

  private put(o: ObjectRef): void {
    const key = keyOf(o.namespace, o.name);
    this.objects.set(key, o);
    const same = this.byName.get(o.name);
    if (same) same.set(key, o);
    else this.byName.set(o.name, new Map([[key, o]]));
    this.snapshot = undefined;
  }

  private remove(o: ObjectRef): void {
    const key = keyOf(o.namespace, o.name);
    this.objects.delete(key);
    const same = this.byName.get(o.name);
    same?.delete(key);
    if (same?.size === 0) this.byName.delete(o.name);
    this.snapshot = undefined;
  }

  /** Called when the API server accepted a watch. */
  private watchOpened(resumed: boolean): void {
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
    // Resumes from the last resourceVersion seen; lists again only if that is gone.
    this.retry = setTimeout(() => void this.run(), this.backoffMs);
    this.retry.unref();
    this.backoffMs = Math.min(this.backoffMs * 2, 30_000);
  }

  /** A full list, page by page (one page in memory at a time besides the cache), replacing the cache. */
  private async listAll(): Promise<void> {
    const items: ObjectRef[] = [];
    let resourceVersion = '';
    let cont = '';
    let pages = 0;
    do {
      if (this.stopped) return;
      const q = new URLSearchParams({ limit: String(this.pageSize), ...(cont ? { continue: cont } : {}) });
      const res = await this.rest.call('GET', `${this.path}?${q.toString()}`, { as: 'metadata' });
      if (res.status !== 200) throw new KubeApiError(`list ${this.path}: HTTP ${res.status}`, res.status);
      const body = res.body as { items?: Meta[]; metadata?: { resourceVersion?: string; continue?: string } };
      for (const o of body.items ?? []) items.push(objectRef(o));
      resourceVersion ||= body.metadata?.resourceVersion ?? '';
      cont = body.metadata?.continue ?? '';
      pages += 1;
    } while (cont);
    this.objects.clear();
    this.byName.clear();
    for (const o of items) this.put(o);
    this.snapshot = undefined;
    this.resourceVersion = resourceVersion;
    this.synced_ = true;
    this.hooks.listed?.(this.path, items.length, pages);
    this.log('info', `cache of ${this.path} listed`, { objects: items.length, pages });
  }
}
