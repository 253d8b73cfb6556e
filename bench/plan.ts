/** How long and how hard each part of the benchmark runs: a full run for the record, --quick for a check. */
import type { ReviewName } from './reviews.js';

/** The servers compared. */
export type ServerName = 'gloo-guard' | 'limit' | 'opa';

/** Durations are seconds; connection counts are concurrent kept-alive HTTPS connections. */
export interface Plan {
  mode: 'full' | 'quick';
  warmupSec: number;
  warmupConnections: number;
  /** Length of one point of the latency/load sweep, per review. */
  pointSec: Record<ReviewName, number>;
  /** The sweep: connection counts, per review. */
  connections: Record<ReviewName, number[]>;
  /** The sweep point whose latency is the headline (saturation). */
  saturationConnections: number;
  /** How often a point is measured again when other processes took CPU during it, and how long to wait for quiet first. */
  retries: number;
  retryWaitSec: number;
  mixed: {
    servers: ServerName[];
    /** Large releases kept in flight while small reviews are probed. */
    heavyConnections: number;
    sec: number;
    /** Small reviews per second (Deployment and Namespace alternately). */
    probeRate: number;
    baselineSec: number;
  };
  memory: {
    servers: ServerName[];
    inFlight: number;
    sec: number;
    /** Gzip bombs sent one at a time, then with this many connections for bombSec. */
    bombsSequential: number;
    bombConnections: number;
    bombSec: number;
  };
  /**
   * gloo-guard and the limit taking turns on one review, round after round: the ratio the targets
   * are judged by, since a drift in the machine's speed between the two sweeps moves their ratio.
   */
  paired: { rounds: number; sec: Record<ReviewName, number>; connections: Record<ReviewName, number> };
}

const PAIRED_CONNECTIONS: Record<ReviewName, number> = {
  deployment: 16,
  namespace: 16,
  'release-small': 16,
  'release-large': 4,
};

const SMALL_SWEEP = [1, 2, 4, 8, 16, 32, 64];
const LARGE_SWEEP = [1, 2, 4, 8, 16];

/** The full run (about 12 minutes on 2 cores; the paired rounds take about 3.5 of them). */
export const FULL_PLAN: Plan = {
  mode: 'full',
  warmupSec: 3,
  warmupConnections: 8,
  pointSec: { deployment: 5, namespace: 5, 'release-small': 5, 'release-large': 8 },
  connections: {
    deployment: SMALL_SWEEP,
    namespace: SMALL_SWEEP,
    'release-small': SMALL_SWEEP,
    'release-large': LARGE_SWEEP,
  },
  saturationConnections: 16,
  retries: 2,
  retryWaitSec: 120,
  mixed: { servers: ['gloo-guard', 'limit'], heavyConnections: 4, sec: 15, probeRate: 100, baselineSec: 5 },
  memory: {
    servers: ['gloo-guard', 'limit'],
    inFlight: 50,
    sec: 10,
    bombsSequential: 10,
    bombConnections: 4,
    bombSec: 5,
  },
  paired: {
    rounds: 6,
    sec: { deployment: 3, namespace: 3, 'release-small': 3, 'release-large': 6 },
    connections: PAIRED_CONNECTIONS,
  },
};

/**
 * A check that finishes in under a minute once OPA is built: the saturation point of each curve (and
 * one connection for the large release), after a warm-up long enough for the JIT.
 */
export const QUICK_PLAN: Plan = {
  mode: 'quick',
  warmupSec: 0.8,
  warmupConnections: 8,
  pointSec: { deployment: 1, namespace: 1, 'release-small': 1, 'release-large': 1.5 },
  connections: { deployment: [16], namespace: [16], 'release-small': [16], 'release-large': [1, 16] },
  saturationConnections: 16,
  retries: 0,
  retryWaitSec: 0,
  mixed: { servers: ['gloo-guard'], heavyConnections: 4, sec: 3.5, probeRate: 100, baselineSec: 1 },
  memory: {
    servers: ['gloo-guard'],
    inFlight: 50,
    sec: 2.5,
    bombsSequential: 3,
    bombConnections: 2,
    bombSec: 1,
  },
  paired: {
    rounds: 2,
    sec: { deployment: 1, namespace: 1, 'release-small': 1, 'release-large': 1.5 },
    connections: PAIRED_CONNECTIONS,
  },
};
