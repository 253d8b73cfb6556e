/**
 * Scratch data kept for the subject being judged, and only for it.
 *
 * The engine runs every policy for one subject before it moves to the next (evaluate.ts), so one entry
 * is enough: the data is made on the subject's first use and replaced when another subject comes.
 *
 * Not a WeakMap keyed by the subject. V8's scavenger copied the entries of such a map, and everything
 * their values reach, as if they were alive: every review answered since the last scavenge survived
 * it (freed at the next one, never promoted). The server under Deployment load copied 4.3 MB per
 * scavenge (0.04 MB with every policy off) and each pause took 8-12 ms instead of under 1 ms
 * (`node --trace-gc-nvp`, docs/performance.md item 13).
 */
import type { Subject } from '../engine/types.js';

/** Gives `make(subject)` once per subject while that subject is the one judged. */
export function forCurrentSubject<T>(make: (s: Subject) => T): (s: Subject) => T {
  let current: Subject | undefined;
  let value: T | undefined;
  return (s) => {
    if (s !== current || value === undefined) {
      value = make(s);
      current = s;
    }
    return value;
  };
}
