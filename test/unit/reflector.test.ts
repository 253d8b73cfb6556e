// The Reflector against a scripted API server: it lists page by page, follows watch events, resumes
// each ended watch from the last resourceVersion (bookmarks included), lists again only on 410 Gone,
// and retries with backoff after an error. The real API server drives it in the e2e suite
// (least-privilege: 2,000 Deployments while watches end and resume); here each case is forced.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { Kubeconfig } from '../../src/k8s/kubeconfig.js';
import { Reflector } from '../../src/k8s/reflector.js';
import { KubeRest } from '../../src/k8s/rest.js';
import { untilLocal as until } from '../robustness/support.js';

const PATH = '/apis/apps/v1/deployments';

interface Obj {
  metadata: { name: string; namespace: string; labels?: Record<string, string>; resourceVersion: string };
}

const obj = (namespace: string, name: string, rv: number, labels: Record<string, string> = {}): Obj => ({
  metadata: { name, namespace, labels, resourceVersion: String(rv) },
});

/** One scripted answer to a watch: events then the end of the stream, an HTTP status, or a stream held open. */
type WatchScript = { events: Array<{ type: string; object: unknown }>; end?: boolean } | { status: number };

/** An API server whose lists answer `lists` in turn (the last one again when they run out) and whose watches play `watches` in turn. */
class ScriptedApi {
  lists: Array<{ items: Obj[]; rv: string }> = [{ items: [], rv: '10' }];
  listStatus = 200;
  private listing = { items: [] as Obj[], rv: '' };
  watches: WatchScript[] = [];
  /** Every request's query, in order: `list limit=2`, `watch rv=10`. */
  readonly requests: string[] = [];
  private open?: ServerResponse;
  /** Watches whose connection the client closed. */
  closedByClient = 0;
  private readonly server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://api');
    if (url.pathname !== PATH) return void res.writeHead(404).end();
    if (url.searchParams.get('watch') === '1') return this.watch(url, res);
    this.requests.push(
      `list limit=${url.searchParams.get('limit')} continue=${url.searchParams.get('continue') ?? ''}`,
    );
    if (this.listStatus !== 200) return void res.writeHead(this.listStatus).end('{"kind":"Status"}');
    const limit = Number(url.searchParams.get('limit'));
    const from = Number(url.searchParams.get('continue') ?? 0);
    if (from === 0)
      this.listing = (this.lists.length > 1 ? this.lists.shift() : this.lists[0]) ?? this.listing;
    const { items, rv } = this.listing;
    const next = from + limit < items.length ? String(from + limit) : undefined;
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        metadata: { resourceVersion: rv, ...(next ? { continue: next } : {}) },
        items: items.slice(from, from + limit),
      }),
    );
  });

  private watch(url: URL, res: ServerResponse): void {
    this.requests.push(
      `watch rv=${url.searchParams.get('resourceVersion')} bookmarks=${url.searchParams.get('allowWatchBookmarks')}`,
    );
    const script = this.watches.shift() ?? { events: [], end: false };
    if ('status' in script) return void res.writeHead(script.status).end('{"kind":"Status"}');
    res.writeHead(200, { 'content-type': 'application/json' });
    for (const e of script.events) res.write(`${JSON.stringify(e)}\n`);
    if (script.end) res.end();
    else {
      res.flushHeaders();
      this.open = res;
      res.on('close', () => {
        if (!res.writableEnded) this.closedByClient += 1;
      });
    }
  }

  async start(): Promise<KubeRest> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    const file = join(mkdtempSync(join(tmpdir(), 'gg-reflector-')), 'config');
    const server = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    writeFileSync(
      file,
      stringify({
        clusters: [{ name: 'c', cluster: { server, 'insecure-skip-tls-verify': true } }],
        users: [{ name: 'u', user: { token: 't' } }],
        contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
        'current-context': 'x',
      }),
    );
    return new KubeRest(Kubeconfig.load(file).access(), 5_000);
  }

  close(): void {
    this.open?.destroy();
    this.server.closeAllConnections();
    this.server.close();
  }
}

const names = (r: Reflector): string[] =>
  r
    .list()
    .map((o) => `${o.namespace}/${o.name}`)
    .sort();

let api: ScriptedApi;
let reflector: Reflector | undefined;
afterEach(() => {
  reflector?.stop();
  api.close();
});

async function started(pageSize = 2): Promise<{
  r: Reflector;
  logs: string[];
  listed: Array<[number, number]>;
  watched: boolean[];
}> {
  const rest = await api.start();
  const logs: string[] = [];
  const listed: Array<[number, number]> = [];
  const watched: boolean[] = [];
  const r = new Reflector(
    rest,
    PATH,
    (level, msg) => logs.push(`${level} ${msg}`),
    { listed: (_, n, pages) => listed.push([n, pages]), watched: (_, resumed) => watched.push(resumed) },
    { pageSize, watchTimeoutSeconds: 300 },
  );
  reflector = r;
  return { r, logs, listed, watched };
}

describe('Reflector', () => {
  it('when it starts, then it lists page by page and watches from the list resourceVersion, with bookmarks', async () => {
    api = new ScriptedApi();
    api.lists = [
      { items: [obj('a', 'web', 1, { app: 'web' }), obj('b', 'web', 2), obj('a', 'db', 3)], rv: '10' },
    ];
    const { r, listed, watched } = await started();
    expect(await r.start()).toBe(true);
    await until('the watch', () => watched.length === 1 || undefined);
    expect(api.requests).toEqual([
      'list limit=2 continue=',
      'list limit=2 continue=2',
      'watch rv=10 bookmarks=true',
    ]);
    expect(listed).toEqual([[3, 2]]);
    expect(watched).toEqual([false]);
    expect(names(r)).toEqual(['a/db', 'a/web', 'b/web']);
    expect(r.get('a', 'web')).toEqual({ name: 'web', namespace: 'a', labels: { app: 'web' } });
    expect(
      r
        .named('web')
        .map((o) => o.namespace)
        .sort(),
    ).toEqual(['a', 'b']);
    expect(r.synced).toBe(true);
  });

  it('when events arrive and the watch ends, then the cache follows them and the next watch resumes from the last resourceVersion, a bookmark included, without a list', async () => {
    api = new ScriptedApi();
    api.lists = [{ items: [obj('a', 'web', 1), obj('a', 'db', 2)], rv: '10' }];
    api.watches = [
      {
        events: [
          { type: 'ADDED', object: obj('a', 'api', 11) },
          { type: 'MODIFIED', object: obj('a', 'web', 12, { v: '2' }) },
          { type: 'DELETED', object: obj('a', 'db', 13) },
          { type: 'BOOKMARK', object: { metadata: { resourceVersion: '20' } } },
        ],
        end: true,
      },
    ];
    const { r, listed, watched } = await started();
    await r.start();
    await until('the resumed watch', () => watched.length === 2 || undefined);
    expect(api.requests.slice(1)).toEqual(['watch rv=10 bookmarks=true', 'watch rv=20 bookmarks=true']);
    expect(watched).toEqual([false, true]);
    expect(listed).toHaveLength(1);
    expect(names(r)).toEqual(['a/api', 'a/web']);
    expect(r.get('a', 'web')?.labels).toEqual({ v: '2' });
    expect(r.get('a', 'db')).toBeUndefined();
    expect(r.named('db')).toEqual([]);
  });

  it('when the watch says 410 Gone, by an ERROR event or by its status, then it lists again and drops what is gone', async () => {
    api = new ScriptedApi();
    const both = { items: [obj('a', 'web', 1), obj('a', 'db', 2)], rv: '10' };
    api.lists = [both, both, { items: [obj('a', 'web', 1)], rv: '30' }];
    api.watches = [
      { events: [{ type: 'ERROR', object: { kind: 'Status', code: 410 } }], end: true },
      { status: 410 },
    ];
    const { r, listed, logs } = await started(10);
    await r.start();
    await until('the second relist', () => listed.length === 3 || undefined);
    await until(
      'the watch after it',
      () => api.requests.at(-1) === 'watch rv=30 bookmarks=true' || undefined,
    );
    expect(api.requests).toEqual([
      'list limit=10 continue=',
      'watch rv=10 bookmarks=true',
      'list limit=10 continue=',
      'watch rv=10 bookmarks=true',
      'list limit=10 continue=',
      'watch rv=30 bookmarks=true',
    ]);
    expect(names(r)).toEqual(['a/web']);
    expect(logs.filter((l) => l.startsWith('warn'))).toEqual([]);
  });

  it('when the list fails, then it is not synced, says so, and lists again after a backoff', async () => {
    api = new ScriptedApi();
    api.lists = [{ items: [obj('a', 'web', 1)], rv: '10' }];
    api.listStatus = 503;
    const { r, logs, listed } = await started();
    expect(await r.start(200)).toBe(false);
    await until('the warning', () => logs.find((l) => l.startsWith('warn')));
    expect(logs).toContain(`warn cache of ${PATH} lost its connection; retrying`);
    expect(r.synced).toBe(false);
    api.listStatus = 200;
    await until('the list after the backoff', () => listed.length === 1 || undefined);
    await until('synced', () => r.synced || undefined);
    expect(names(r)).toEqual(['a/web']);
  });

  it('when the watch fails with another status, then it resumes from the resourceVersion it had, without a list', async () => {
    api = new ScriptedApi();
    api.watches = [{ events: [{ type: 'ADDED', object: obj('a', 'web', 15) }], end: true }, { status: 500 }];
    const { r, listed, logs } = await started();
    await r.start();
    await until('the watch after the backoff', () => api.requests.length === 4 || undefined);
    expect(api.requests.slice(1)).toEqual([
      'watch rv=10 bookmarks=true',
      'watch rv=15 bookmarks=true',
      'watch rv=15 bookmarks=true',
    ]);
    expect(listed).toHaveLength(1);
    expect(logs.filter((l) => l.startsWith('warn'))).toHaveLength(1);
    expect(names(r)).toEqual(['a/web']);
  });

  it('when a watch ends at once with no event, again and again, then it backs off instead of asking at once forever', async () => {
    api = new ScriptedApi();
    api.watches = Array.from({ length: 50 }, () => ({ events: [], end: true }));
    const { r, logs } = await started();
    await r.start();
    const warnings = (): string[] => logs.filter((l) => l.startsWith('warn'));
    await until('two warnings', () => (warnings().length >= 2 ? true : undefined));
    // Each watch after the first waits for the backoff of the warning before it; without it, the 50
    // empty watches would be asked for at once, with no warning at all.
    const watches = api.requests.filter((q) => q.startsWith('watch')).length;
    expect(watches).toBeLessThanOrEqual(warnings().length + 1);
    expect(warnings()[0]).toBe(`warn cache of ${PATH} lost its connection; retrying`);
  });

  it('when it is stopped, then the open watch is closed and nothing more is asked', async () => {
    api = new ScriptedApi();
    const { r, watched } = await started();
    await r.start();
    await until('the watch', () => watched.length === 1 || undefined);
    r.stop();
    await until('the watch closed by the client', () => api.closedByClient === 1 || undefined);
    const asked = api.requests.length;
    // Another request would arrive on the event loop's next turns; a stopped reflector makes none.
    await new Promise((done) => setImmediate(done));
    expect(api.requests).toHaveLength(asked);
    expect(r.isStopped).toBe(true);
  });
});
