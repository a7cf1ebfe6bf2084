// Messages per second, per tenant, over the last few seconds: what this node
// committed (the same messages pulse_ingest_committed_total counts), kept in
// one-second buckets in memory. Cheap enough to call on every commit; a page
// asks for one tenant's rate or the platform's. Each node counts its own
// intake, so behind a load balancer a page shows the rate of the node it hit.

export interface IngestRate {
  /** Count committed messages (the writer's onCommit). */
  record(batch: ReadonlyArray<{ env: { tenantId: string } }>): void;
  /** Messages per second over the last `windowSeconds` full seconds; null tenant = every tenant. */
  perSecond(tenantId: string | null): number;
}

export function createIngestRate(opts: { windowSeconds?: number; now?: () => number } = {}): IngestRate {
  const window = opts.windowSeconds ?? 10;
  const now = opts.now ?? Date.now;
  // tenant → second → messages; the seconds older than the window are dropped as we go.
  const buckets = new Map<string, Map<number, number>>();
  const prune = (second: number) => {
    for (const [tenant, seconds] of buckets) {
      for (const s of seconds.keys()) if (s < second - window) seconds.delete(s);
      if (seconds.size === 0) buckets.delete(tenant);
    }
  };
  let lastPrune = 0;
  return {
    record(batch) {
      const second = Math.floor(now() / 1000);
      const add = (tenantId: string, n: number) => {
        let seconds = buckets.get(tenantId);
        if (!seconds) buckets.set(tenantId, (seconds = new Map()));
        seconds.set(second, (seconds.get(second) ?? 0) + n);
      };
      // Counted by runs of one tenant's messages (a batch is mostly long runs), not a map update per message.
      let tenant: string | undefined;
      let run = 0;
      for (const m of batch) {
        if (m.env.tenantId === tenant) {
          run++;
          continue;
        }
        if (run) add(tenant!, run);
        tenant = m.env.tenantId;
        run = 1;
      }
      if (run) add(tenant!, run);
      if (second !== lastPrune) {
        lastPrune = second;
        prune(second);
      }
    },
    perSecond(tenantId) {
      const second = Math.floor(now() / 1000);
      // Full seconds only: the current one is still filling up.
      let total = 0;
      for (const [tenant, seconds] of buckets) {
        if (tenantId !== null && tenant !== tenantId) continue;
        for (const [s, n] of seconds) if (s >= second - window && s < second) total += n;
      }
      return total / window;
    },
  };
}
