/**
 * Leader election on a coordination.k8s.io Lease, as client-go's leaderelection package does it:
 * one replica holds the Lease and renews it; the others take it over when it is released, or when
 * they have seen it unrenewed for a whole lease duration (their own clock, so no clock skew matters).
 */
import { KubeApiError, type KubeRest } from './rest.js';

/** Which Lease, who we are, and how long a holder keeps it without renewing. */
export interface LeaseOptions {
  namespace: string;
  name: string;
  identity: string;
  durationMs: number;
  /** How often to try to acquire or renew; a third of the duration or less. */
  retryMs: number;
}

/** Logs what the election does (acquired, lost, errors), never more. */
export type LeaseLog = (level: 'info' | 'warn', msg: string, fields?: Record<string, unknown>) => void;

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

interface LeaseObject {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string };
  spec?: LeaseSpec;
}

/** The API server's MicroTime: RFC 3339 with exactly six fractional digits. */
export function microTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** Holds or waits for one Lease; `isLeader()` says whether this process may act now. */
export class LeaseElector {
  private leader = false;
  private stopped = false;
  private timer?: NodeJS.Timeout;
  /** The holder's record as last seen, and when (local clock): it expires durationMs after that. */
  private observed = '';
  private observedAt = 0;
  private readonly listeners: Array<(leader: boolean) => void> = [];

  constructor(
    private readonly rest: KubeRest,
    private readonly o: LeaseOptions,
    private readonly log: LeaseLog,
  ) {}

  private get path(): string {
    return `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(this.o.namespace)}/leases`;
  }

  /** True while this process holds the Lease. */
  isLeader(): boolean {
    return this.leader;
  }

  /** Calls `fn` each time leadership is gained (true) or lost (false). */
  onChange(fn: (leader: boolean) => void): void {
    this.listeners.push(fn);
  }

  /** Starts trying to acquire, then renewing; never throws. */
  start(): void {
    const tick = async (): Promise<void> => {
      await this.attempt();
      if (!this.stopped) {
        this.timer = setTimeout(() => void tick(), this.o.retryMs);
        this.timer.unref();
      }
    };
    void tick();
  }

  /** Stops renewing and, if held, releases the Lease so another replica takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    if (!this.leader) return;
    this.setLeader(false);
    try {
      const current = await this.read();
      if (current?.spec?.holderIdentity !== this.o.identity) return;
      await this.write(current, { ...current.spec, holderIdentity: '', leaseDurationSeconds: 1 });
    } catch (err: unknown) {
      this.log('warn', 'could not release the audit lease; another replica takes it when it expires', {
        problem: err instanceof Error ? err.message : String(err),
      });
    }
  }

  private setLeader(leader: boolean): void {
    if (leader === this.leader) return;
    this.leader = leader;
    this.log('info', leader ? 'acquired the audit lease' : 'no longer holds the audit lease', {
      lease: `${this.o.namespace}/${this.o.name}`,
      identity: this.o.identity,
    });
    for (const fn of this.listeners) fn(leader);
  }

  private async attempt(): Promise<void> {
    try {
      this.setLeader(await this.tryAcquireOrRenew());
    } catch (err: unknown) {
      // Unsure whether we still hold it: stop acting; the Lease expires and someone takes over.
      this.setLeader(false);
      this.log('warn', 'the audit lease could not be read or renewed; retrying', {
        problem: err instanceof Error ? err.message : String(err),
      });
    }
  }

  private async read(): Promise<LeaseObject | undefined> {
    const res = await this.rest.call('GET', `${this.path}/${encodeURIComponent(this.o.name)}`);
    return res.status === 404 ? undefined : (res.body as LeaseObject);
  }

  /** Replaces the Lease at the resourceVersion read; false when someone wrote it first (409). */
  private async write(current: LeaseObject, spec: LeaseSpec): Promise<boolean> {
    const res = await this.rest.call('PUT', `${this.path}/${encodeURIComponent(this.o.name)}`, {
      body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: current.metadata, spec },
    });
    return res.status === 200;
  }

  private mySpec(previous: LeaseSpec | undefined, now: Date): LeaseSpec {
    const mine = previous?.holderIdentity === this.o.identity;
    return {
      holderIdentity: this.o.identity,
      leaseDurationSeconds: Math.ceil(this.o.durationMs / 1000),
      acquireTime: mine && previous.acquireTime ? previous.acquireTime : microTime(now),
      renewTime: microTime(now),
      leaseTransitions: (previous?.leaseTransitions ?? 0) + (mine || !previous?.holderIdentity ? 0 : 1),
    };
  }

  private heldByOther(spec: LeaseSpec | undefined): boolean {
    const holder = spec?.holderIdentity ?? '';
    if (holder === '' || holder === this.o.identity) return false;
    const record = `${holder}@${spec?.renewTime ?? ''}`;
    if (record !== this.observed) {
      this.observed = record;
      this.observedAt = Date.now();
    }
    const duration = Math.max((spec?.leaseDurationSeconds ?? 0) * 1000, this.o.durationMs);
    return Date.now() - this.observedAt < duration;
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const now = new Date();
    const current = await this.read();
    if (current === undefined) {
      const res = await this.rest.call('POST', this.path, {
        body: {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name: this.o.name, namespace: this.o.namespace },
          spec: this.mySpec(undefined, now),
        },
      });
      if (res.status === 409) return false;
      if (res.status !== 201) throw new KubeApiError(`create lease: HTTP ${res.status}`, res.status);
      return true;
    }
    if (this.heldByOther(current.spec)) return false;
    return this.write(current, this.mySpec(current.spec, now));
  }
}
