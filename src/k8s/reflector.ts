/**
 * A metadata-only list+watch cache (what client-go calls a reflector): it keeps name, namespace and
 * labels of each object, never specs or Secret data, so memory stays small in a large cluster.
 */
import type { ObjectRef } from '../audit/source.js';
import { KubeApiError, type KubeRest } from './rest.js';

interface Meta {
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string>; resourceVersion?: string };
}

interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: Meta & { code?: number };
}

/** Logs what the cache does (sync, errors), never object contents. */
export type ReflectorLog = (level: 'info' | 'warn', msg: string, fields?: Record<string, unknown>) => void;

function key(o: Meta): string {
  return `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
}

function toRef(o: Meta): ObjectRef {
  return {
    name: o.metadata?.name ?? '',
    namespace: o.metadata?.namespace ?? '',
    labels: o.metadata?.labels ?? {},
  };
}

/** A cache of one resource's metadata, kept current by a watch; restarts with backoff on errors. */
export class Reflector {
  private readonly items = new Map<string, ObjectRef>();
  private syncedAt = 0;
  private stopped = false;
  private abort?: AbortController;

  constructor(
    private readonly rest: KubeRest,
    /** Collection path, e.g. `/apis/apps/v1/deployments`. */
    readonly path: string,
    private readonly log: ReflectorLog,
    private readonly query: Record<string, string> = {},
  ) {}

  /** True once the first list has arrived and the watch is running. */
  get synced(): boolean {
    return this.syncedAt > 0;
  }

  /** Every cached object. */
  list(): ObjectRef[] {
    return [...this.items.values()];
  }

  /** One cached object by namespace and name. */
  get(namespace: string, name: string): ObjectRef | undefined {
    return this.items.get(`${namespace}/${name}`);
  }

  /** Starts listing and watching in the background; resolves after the first successful list or the timeout. */
  start(firstSyncTimeoutMs = 10_000): Promise<boolean> {
    void this.loop();
    return new Promise((resolve) => {
      const started = Date.now();
      const tick = (): void => {
        if (this.synced || this.stopped || Date.now() - started > firstSyncTimeoutMs) resolve(this.synced);
        else setTimeout(tick, 50);
      };
      tick();
    });
  }

  /** Stops the watch. */
  stop(): void {
    this.stopped = true;
    this.abort?.abort();
  }

  private async loop(): Promise<void> {
    let backoff = 500;
    while (!this.stopped) {
      try {
        const rv = await this.relist();
        backoff = 500;
        await this.watch(rv);
      } catch (err: unknown) {
        if (this.stopped) return;
        this.syncedAt = 0;
        this.log('warn', `cache of ${this.path} lost its connection; retrying`, {
          error: err instanceof Error ? err.message : String(err),
          retryMs: backoff,
        });
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(backoff * 2, 30_000);
      }
    }
  }

  private async relist(): Promise<string> {
    const res = await this.rest.call('GET', `${this.path}?${new URLSearchParams(this.query).toString()}`, {
      as: 'metadata',
    });
    if (res.status !== 200) throw new KubeApiError(`list ${this.path}: HTTP ${res.status}`, res.status);
    const body = res.body as { items?: Meta[]; metadata?: { resourceVersion?: string } };
    this.items.clear();
    for (const o of body.items ?? []) this.items.set(key(o), toRef(o));
    this.syncedAt = Date.now();
    this.log('info', `cache of ${this.path} synced`, { objects: this.items.size });
    return body.metadata?.resourceVersion ?? '';
  }

  private async watch(resourceVersion: string): Promise<void> {
    this.abort = new AbortController();
    const q = new URLSearchParams({
      ...this.query,
      watch: '1',
      resourceVersion,
      allowWatchBookmarks: 'true',
      timeoutSeconds: '300',
    });
    await this.rest.stream(
      `${this.path}?${q.toString()}`,
      { as: 'metadata', signal: this.abort.signal },
      (line) => this.apply(JSON.parse(line) as WatchEvent),
    );
  }

  private apply(ev: WatchEvent): void {
    if (ev.type === 'ERROR')
      throw new KubeApiError(`watch ${this.path}: ${String(ev.object.code ?? 'error')}`, ev.object.code);
    if (ev.type === 'BOOKMARK') return;
    if (ev.type === 'DELETED') this.items.delete(key(ev.object));
    else this.items.set(key(ev.object), toRef(ev.object));
  }
}
