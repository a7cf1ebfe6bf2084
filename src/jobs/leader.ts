// Leader election with a Postgres advisory lock held on a dedicated session:
// among N nodes on one database exactly one runs the singletons (heartbeat
// sweep, escalations, schedulers). If the leader's connection dies, Postgres
// releases the lock and another node takes over on its next attempt.

import type { Db, Session } from "../db/db.ts";
import type { Logger } from "../lib/logger.ts";

// Any fixed 64-bit number, the same on every node.
export const LEADER_LOCK = 7_202_611_271;

// pg_locks shows a bigint advisory key as its high half (classid) and low half (objid).
const HELD = `select exists (select 1 from pg_locks where locktype = 'advisory' and granted and pid = pg_backend_pid()
  and classid::int8 = ${Math.floor(LEADER_LOCK / 2 ** 32)} and objid::int8 = ${LEADER_LOCK % 2 ** 32} and objsubid = 1) as held`;

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
  let ticking: Promise<void> = Promise.resolve();

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
        // Being connected is not enough: the driver silently reconnects a
        // session whose connection died, and the new one holds no lock.
        const [row] = await session.query<{ held: boolean }>(HELD);
        if (row?.held !== true) {
          log.warn("leader: the leader lock was lost (database connection reset)");
          setLeader(false);
        }
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
    if (!stopped) timer = setTimeout(() => (ticking = tick()), interval);
  };
  ticking = tick();

  return {
    isLeader: () => leader,
    elected: () => (leader ? Promise.resolve() : new Promise((r) => waiters.push(r))),
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      // A tick in flight may be taking the lock right now; let it finish so the lock is released below.
      await ticking;
      if (session) {
        if (leader) await session.query("select pg_advisory_unlock($1)", [LEADER_LOCK]).catch(() => {});
        await session.release().catch(() => {});
      }
      setLeader(false);
    },
  };
}
