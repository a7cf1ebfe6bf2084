// Live events for the UI: an in-process fan-out per tenant, fed by
// LISTEN/NOTIFY so that a change made on any node reaches the browsers
// connected to every node. Events are hints ("devices changed"), small and
// lossy by design: a page that hears one re-reads what it shows.

import type { Db } from "../db/db.ts";
import type { Logger } from "../lib/logger.ts";

export interface LiveEvent {
  /** e.g. "devices.status", "alerts.changed". */
  type: string;
  tenantId: string;
  data?: Record<string, unknown>;
}

export const LIVE_CHANNEL = "pulse_live";

export interface Hub {
  /** Deliver to subscribers on this node only. */
  emitLocal(e: LiveEvent): void;
  /** Subscribe to one tenant's events, or every tenant's (tenantId "*", operators). */
  subscribe(tenantId: string, fn: (e: LiveEvent) => void): () => void;
  subscribers(): number;
  stop(): Promise<void>;
}

/** A hub listening on LIVE_CHANNEL (payload: JSON LiveEvent) and on extra channels mapped to events. */
export async function startHub(db: Db, log: Logger, bridges: Record<string, (payload: string) => LiveEvent | undefined> = {}): Promise<Hub> {
  const subs = new Map<string, Set<(e: LiveEvent) => void>>();
  const emitLocal = (e: LiveEvent) => {
    for (const key of [e.tenantId, "*"]) {
      for (const fn of subs.get(key) ?? []) {
        try {
          fn(e);
        } catch (err) {
          log.warn("live: subscriber failed", { error: err });
        }
      }
    }
  };
  const unlisten: Array<() => Promise<void>> = [];
  unlisten.push(
    await db.listen(LIVE_CHANNEL, (payload) => {
      try {
        emitLocal(JSON.parse(payload) as LiveEvent);
      } catch {
        log.warn("live: unreadable event", { payload: payload.slice(0, 200) });
      }
    }),
  );
  for (const [channel, toEvent] of Object.entries(bridges)) {
    unlisten.push(
      await db.listen(channel, (payload) => {
        const e = toEvent(payload);
        if (e) emitLocal(e);
      }),
    );
  }
  return {
    emitLocal,
    subscribe(tenantId, fn) {
      let set = subs.get(tenantId);
      if (!set) subs.set(tenantId, (set = new Set()));
      set.add(fn);
      return () => {
        set!.delete(fn);
        if (set!.size === 0) subs.delete(tenantId);
      };
    },
    subscribers: () => [...subs.values()].reduce((n, s) => n + s.size, 0),
    stop: async () => {
      for (const u of unlisten) await u().catch(() => {});
      subs.clear();
    },
  };
}
