// The alert writer thread, main side. On Postgres the engine's alert
// transactions run on a Worker with connections of its own: each transaction
// is four round trips (BEGIN; the change with the hooks' reads; the hooks'
// writes and the live NOTIFY; COMMIT), and on the main thread every one of them
// also waited for the event loop to come round between MQTT reads and ingest
// batches, which under load made up most of an alert's latency (measured: the
// begin, body and commit each reached p99 10–20 ms at half of max ingest,
// while Postgres answered in under a millisecond). The engine still judges,
// orders the writes (write-order.ts) and publishes after commit here; the
// thread only runs the transaction (apply.ts) and hands the transitions back.
//
// Should the thread die, the transactions it held fail (the engine reloads the
// tenant's state from the database, as after any failed write) and the next
// one starts a new thread.

import type { Config } from "../config.ts";
import type { DbKind } from "../db/db.ts";
import { APP_ROLE } from "../db/open.ts";
import type { PostgresOptions } from "../db/postgres.ts";
import type { Logger } from "../lib/logger.ts";
import { MAX_WRITING } from "./engine.ts";
import type { ApplyChanges, StateChange } from "./apply.ts";
import type { AlertAction, Transition } from "./lifecycle.ts";

export type ThreadRequest =
  | { type: "open"; db: PostgresOptions; retryHorizonSeconds: number }
  | { type: "apply"; id: number; states: StateChange[]; actions: AlertAction[]; publicUrl: string }
  | { type: "close" };

export type ThreadReply =
  | { type: "opened" }
  | { type: "failed"; message: string }
  | { type: "applied"; id: number; transitions?: Transition[]; error?: { message: string; code?: string } }
  | { type: "closed" };

export interface WriteThreadOptions {
  db: PostgresOptions;
  retryHorizonSeconds: number;
  publicUrl: () => string;
  log: Logger;
  /** The thread's entry (tests run it wrapped). */
  workerUrl?: string;
}

export interface WriteThread {
  apply: ApplyChanges;
  /** Close its connections and end it (after the engine is idle). */
  stop(): Promise<void>;
}

interface Thread {
  worker: Worker;
  dead: boolean;
  pending: Map<number, { resolve: (t: Transition[]) => void; reject: (err: Error) => void }>;
  closed?: () => void;
}

const STOP_TIMEOUT_MS = 5_000;
/**
 * The thread's entry. In the compiled executable it is an entrypoint of its
 * own (scripts/build.ts), found by its path from the project root, not next to
 * this module (which is bundled into the executable's main file).
 */
const WORKER_ENTRY = import.meta.url.includes("/$bunfs/") ? "/$bunfs/root/src/alerts/write-thread-worker.ts" : new URL("./write-thread-worker.ts", import.meta.url).href;

/** The app's thread: on Postgres unless `database.alert_thread` is off (undefined: the engine writes on the main thread). */
export function startAlertWriteThread(config: Config, kind: DbKind, publicUrl: () => string, log: Logger): Promise<WriteThread | undefined> {
  const url = config["database.url"];
  if (kind !== "postgres" || !url || !config["database.alert_thread"]) return Promise.resolve(undefined);
  return startWriteThread({
    // As many connections as the engine runs alert transactions at once.
    // Closed only once the engine is idle (stop()), so there is nothing to wait for then.
    db: { url, poolMax: MAX_WRITING, statementTimeoutMs: config["database.statement_timeout_ms"], applicationName: "pulse-alerts", role: APP_ROLE, closeGraceSeconds: 0.5 },
    retryHorizonSeconds: config["notify.retry_hours"] * 3600,
    publicUrl,
    log,
  });
}

/** Start the thread and open its connections; fails as opening the database would. */
export async function startWriteThread(opts: WriteThreadOptions): Promise<WriteThread> {
  let stopping = false;
  let nextId = 1;
  let live: Thread | undefined;
  let starting: Promise<Thread> | undefined;

  const spawn = (): Promise<Thread> =>
    new Promise<Thread>((resolve, reject) => {
      // Never what keeps the process alive: stop() ends it, and a process exiting anyway takes it along.
      const worker = new Worker(opts.workerUrl ?? WORKER_ENTRY, { ref: false });
      const thread: Thread = { worker, dead: false, pending: new Map() };
      let opened = false;
      const died = (reason: string) => {
        if (thread.dead) return;
        thread.dead = true;
        const err = new Error(`alerts: the alert writer thread stopped (${reason})`);
        if (!opened) reject(err);
        for (const p of thread.pending.values()) p.reject(err);
        thread.pending.clear();
        thread.closed?.();
        if (!stopping) opts.log.error("alerts: the alert writer thread stopped; the next alert write starts a new one", { reason });
        worker.terminate();
      };
      worker.onmessage = (e: MessageEvent<ThreadReply>) => {
        const r = e.data;
        if (r.type === "opened") {
          opened = true;
          resolve(thread);
        } else if (r.type === "failed") {
          died(r.message);
        } else if (r.type === "applied") {
          const p = thread.pending.get(r.id);
          thread.pending.delete(r.id);
          if (!p) return;
          if (r.error) p.reject(Object.assign(new Error(r.error.message), r.error.code ? { code: r.error.code } : {}));
          else p.resolve(r.transitions ?? []);
        } else if (r.type === "closed") thread.closed?.();
      };
      worker.addEventListener("error", (e) => died((e as ErrorEvent).message || "uncaught error"));
      worker.addEventListener("close", () => died("exited"));
      worker.postMessage({ type: "open", db: opts.db, retryHorizonSeconds: opts.retryHorizonSeconds } satisfies ThreadRequest);
    });

  // The live thread, or the one starting; one that cannot start is not kept (the next write tries again).
  const thread = (): Promise<Thread> => {
    if (live && !live.dead) return Promise.resolve(live);
    starting ??= spawn()
      .then((t) => (live = t))
      .finally(() => (starting = undefined));
    return starting;
  };

  await thread();

  return {
    async apply(states, actions) {
      if (stopping) throw new Error("alerts: the alert writer thread is stopping");
      const t = await thread();
      // It may have died since it answered (its pending writes were failed then; this one would wait forever).
      if (t.dead) throw new Error("alerts: the alert writer thread stopped");
      const id = nextId++;
      return new Promise<Transition[]>((resolve, reject) => {
        t.pending.set(id, { resolve, reject });
        t.worker.postMessage({ type: "apply", id, states, actions, publicUrl: opts.publicUrl() } satisfies ThreadRequest);
      });
    },
    async stop() {
      stopping = true;
      const t = live ?? (await starting?.catch(() => undefined));
      live = undefined;
      if (!t || t.dead) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, STOP_TIMEOUT_MS);
        t.closed = () => {
          clearTimeout(timer);
          resolve();
        };
        t.worker.postMessage({ type: "close" } satisfies ThreadRequest);
      });
      t.worker.terminate();
    },
  };
}
