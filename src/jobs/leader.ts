// Leader election with a Postgres advisory lock held on a dedicated session:
// among N nodes on one database exactly one runs the singletons (heartbeat
// sweep, escalations, schedulers). If the leader's connection dies, Postgres
// releases the lock and another node takes over on its next attempt.

import type { Db, Session } from "../db/db.ts";
import type { Logger } from "../lib/logger.ts";

// Any fixed 64-bit number, the same on every node.
export const LEADER_LOCK = 7_202_611_271;

export interface Leader {
  isLeader(): boolean;
  /** Resolves once this node has been elected (tests; start-up jobs). */
  elected(): Promise<void>;
  stop(): Promise<void>;
}

export interface LeaderOptions {
  db: Db;
  log: Logger;
  /** How often a follower tries to take over and a leader checks it still holds the lock. */
  intervalMs?: number;
  onChange?: (leader: boolean) => void;
}

export function startLeaderElection(opts: LeaderOptions): Leader {
  const { db, log } = opts;
  const interval = opts.intervalMs ?? 5000;
  let session: Session | undefined;
  let leader = false;
  let stopped = false;
  let waiters: Array<() => void> = [];
  let timer: ReturnType<typeof setTimeout> | undefined;

  const setLeader = (v: boolean) => {
    if (v === leader) return;
    leader = v;
    log.info(v ? "leader: this node leads" : "leader: this node no longer leads");
    opts.onChange?.(v);
    if (v) {
      for (const w of waiters) w();
      waiters = [];
    }
  };

  const tick = async () => {
    try {
      session ??= await db.session();
      if (leader) {
        // Still connected means still holding the lock.
        await session.query("select 1");
      } else {
        const [row] = await session.query<{ ok: boolean }>("select pg_try_advisory_lock($1) as ok", [LEADER_LOCK]);
        setLeader(row?.ok === true);
      }
    } catch (err) {
      log.warn("leader: lost the database session", { error: err });
      setLeader(false);
      const s = session;
      session = undefined;
      await s?.release().catch(() => {});
    }
    if (!stopped) timer = setTimeout(tick, interval);
  };
  void tick();

  return {
    isLeader: () => leader,
    elected: () => (leader ? Promise.resolve() : new Promise((r) => waiters.push(r))),
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      if (session) {
        if (leader) await session.query("select pg_advisory_unlock($1)", [LEADER_LOCK]).catch(() => {});
        await session.release().catch(() => {});
      }
      setLeader(false);
    },
  };
}
