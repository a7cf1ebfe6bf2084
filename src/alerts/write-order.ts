// Alert writes in the background, in order where it matters: at most `max`
// transactions at a time (the pool has other users: ingest, the API, the
// outbox), each started once the earlier ones touching any of its keys (alert
// fingerprints) have finished. So changes to one alert commit in the order
// they were judged, while a slow transaction never holds up other alerts.

export interface WriteOrder {
  /**
   * Wait for a free slot, then take a place in line for these keys; `written`
   * runs `write` once the earlier writes of those keys are done.
   */
  enqueue<T>(keys: Iterable<string>, write: () => Promise<T>): Promise<{ written: Promise<T> }>;
  /** Until every write in flight now, and any started meanwhile, has finished. */
  drained(): Promise<void>;
  /** Whether a write of any of these keys is in flight or waiting. */
  busy(keys: Iterable<string>): boolean;
  /** Until the writes of these keys in flight or waiting now have finished. */
  settledFor(keys: Iterable<string>): Promise<void>;
  /** Writes in flight. */
  size(): number;
}

export function createWriteOrder(max: number): WriteOrder {
  const inFlight = new Set<Promise<void>>();
  const last = new Map<string, Promise<void>>();
  return {
    async enqueue(keys, write) {
      while (inFlight.size >= max) await Promise.race(inFlight);
      const mine = [...new Set(keys)];
      const before: Promise<void>[] = [];
      for (const k of mine) {
        const p = last.get(k);
        if (p) before.push(p);
      }
      const written = (before.length ? Promise.all(before) : Promise.resolve()).then(write);
      const done = written.then(
        () => {},
        () => {},
      );
      inFlight.add(done);
      for (const k of mine) last.set(k, done);
      void done.then(() => {
        inFlight.delete(done);
        for (const k of mine) if (last.get(k) === done) last.delete(k);
      });
      return { written };
    },
    async drained() {
      while (inFlight.size) await Promise.all(inFlight);
    },
    busy(keys) {
      for (const k of keys) if (last.has(k)) return true;
      return false;
    },
    async settledFor(keys) {
      const pending: Promise<void>[] = [];
      for (const k of keys) {
        const p = last.get(k);
        if (p) pending.push(p);
      }
      await Promise.all(pending);
    },
    size: () => inFlight.size,
  };
}
