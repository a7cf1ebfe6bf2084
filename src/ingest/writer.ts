// The batch writer: one bounded in-memory queue of accepted messages,
// flushed every flush_ms or when batch_rows are waiting, whichever is first.
// A flush is one transaction: telemetry rows (one INSERT of text-array
// columns, on Postgres and PGlite alike), the latest state of each device,
// first sightings of metric names. Only after it commits are the messages acknowledged (QoS 1
// PUBACK, HTTP 202). A failed flush is retried as a whole; nothing is ever
// half-written. When the queue is full, enqueue refuses and callers push back
// (HTTP 503, MQTT stops reading the socket).

import type { Db } from "../db/db.ts";
import { withSystem } from "../db/scope.ts";
import type { Logger } from "../lib/logger.ts";
import type { Metrics } from "../lib/metrics.ts";
import { writeBatch } from "./batch-store.ts";
import type { Envelope } from "./parse.ts";

export interface Accepted {
  env: Envelope;
  /** How it arrived (for the quarantine, should the database refuse it). */
  transport?: "mqtt" | "http";
  receivedAt: Date;
  tokenId?: string;
  /** Called once the message is committed (err undefined) or can never be (err set). */
  done?: (err?: Error) => void;
  /** Set by the writer: when it entered the queue (for latency). */
  queuedAt?: number;
}

export interface WriterOptions {
  db: Db;
  log: Logger;
  metrics: Metrics;
  maxQueue: number;
  batchRows: number;
  flushMs: number;
  /** Called after each commit with its messages (ingest rates). */
  onCommit?: (batch: readonly Accepted[]) => void;
  /** A message the database refused for its content (it is dropped). */
  onPoison?: (m: Accepted, err: Error) => void;
}

export interface Writer {
  /**
   * Queue a message; false when the queue is full or messages are waiting for
   * room (the caller must push back, or wait with enqueueWhenRoom).
   */
  enqueue(m: Accepted): boolean;
  /**
   * Queue a message once there is room: true when it is queued, false once
   * the writer has stopped and will never take another message. Waiting
   * messages are queued first come, first served, before any that arrive
   * later (see `waiting` below).
   */
  enqueueWhenRoom(m: Accepted): Promise<boolean>;
  /** Messages that may be queued now (0 while others wait for room). */
  room(): number;
  depth(): number;
  /** Flush everything queued now (tests, shutdown). */
  flush(): Promise<void>;
  /**
   * Flush and stop. What is not written by the deadline: messages without a
   * `done` (QoS 0) go to `spool` when given; the rest are failed (their
   * senders resend them), never silently dropped.
   */
  stop(opts?: { deadlineMs?: number; spool?: (messages: readonly Accepted[]) => Promise<void> }): Promise<void>;
}

const WAKE_SLICE = 500;
const MAX_RETRY_DELAY_MS = 5_000;
/** Writing at shutdown stops here, leaving time to spool the rest within the 10 s a shutdown may take. */
const DEFAULT_STOP_DEADLINE_MS = 6_000;

export function createWriter(opts: WriterOptions): Writer {
  const { db, log, metrics } = opts;
  // Messages waiting are queue[head…]; the written ones before head are cut
  // off now and then, not on every flush (that copied the whole queue each time).
  let queue: Accepted[] = [];
  let head = 0;
  const depth = () => queue.length - head;
  let flushing: Promise<void> | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  let failures = 0;
  // Messages waiting for room, oldest first. While any wait, enqueue() takes
  // nothing new: a message arriving just after a flush used to take the room
  // before the waiters were woken, so under a full queue most messages went
  // straight in and a few waited for seconds, flush after flush (their
  // connections unread meanwhile: a device's next message, and its alert,
  // waited with them).
  let waiting: Array<{ m: Accepted; queued: (ok: boolean) => void }> = [];
  // Metric names and tokens this node has already recorded recently.
  const seenMetrics = new Map<string, number>();
  const touchedTokens = new Map<string, number>();

  const committed = metrics.counter("pulse_ingest_committed_total", "Messages written to the database.");
  const flushSeconds = metrics.histogram("pulse_ingest_flush_seconds", "Time a batch takes to commit.");
  const latency = metrics.histogram("pulse_ingest_commit_latency_seconds", "From queueing to commit.");
  const flushErrors = metrics.counter("pulse_ingest_flush_errors_total", "Batches that failed to commit (retried).");
  metrics.collect("pulse_ingest_queue_depth", "Messages waiting to be written.", depth);
  metrics.collect("pulse_ingest_queue_waiters", "Accepted messages waiting for room in the full queue.", () => waiting.length);

  // flush_ms counts from when the oldest waiting message was queued (not from
  // whenever a timer happened to be set): after a flush, what waited through it
  // long enough goes out at once.
  const schedule = () => {
    if (timer || stopped) return;
    const oldest = queue[head]?.queuedAt;
    const wait = failures ? Math.min(MAX_RETRY_DELAY_MS, opts.flushMs * 2 ** failures) : Math.max(0, opts.flushMs - (oldest === undefined ? 0 : performance.now() - oldest));
    timer = setTimeout(() => {
      timer = undefined;
      void flushSome();
    }, wait);
  };

  const acknowledge = (items: readonly Accepted[], started: number) => {
    const now = performance.now();
    flushSeconds.observe((now - started) / 1000);
    committed.inc({}, items.length);
    let acks = false;
    for (const m of items) {
      if (m.queuedAt) latency.observe((now - m.queuedAt) / 1000);
      if (m.done) acks = true;
    }
    // Acknowledged a moment later (still only after the commit), once the next
    // batch has gone out: what a PUBACK sets off (the sender's next publishes)
    // then runs while the database writes, instead of holding up the next batch.
    if (acks)
      setImmediate(() => {
        for (const m of items) m.done?.();
      });
    try {
      opts.onCommit?.(items);
    } catch (err) {
      log.error("ingest: after-commit hook failed", { error: err });
    }
  };

  /**
   * A batch the database refuses for its data (not for being unreachable)
   * is split until the offending messages stand alone; the rest is written
   * and those few are refused, so one bad message never blocks ingest.
   */
  const writeOrSplit = async (items: readonly Accepted[]): Promise<void> => {
    const started = performance.now();
    try {
      // The scope and the batch's statements go out together (withSystem
      // pipelines them): one round trip between BEGIN and COMMIT.
      await withSystem(db, (tx) => writeBatch(tx, items, seenMetrics, touchedTokens));
      acknowledge(items, started);
    } catch (err) {
      if (!isDataError(err)) throw err;
      if (items.length === 1) {
        const m = items[0]!;
        log.error("ingest: the database refused a message; dropped", { tenant: m.env.tenantId, device: m.env.deviceId, error: err });
        opts.onPoison?.(m, err as Error);
        m.done?.(new PoisonError(`the database refused this message: ${(err as Error).message}`));
        return;
      }
      const half = Math.ceil(items.length / 2);
      await writeOrSplit(items.slice(0, half));
      await writeOrSplit(items.slice(half));
    }
  };

  const push = (m: Accepted) => {
    m.queuedAt = performance.now();
    queue.push(m);
    if (depth() >= opts.batchRows && !failures) flushSoon();
    else schedule();
  };

  // Waiting messages are queued as there is room, a slice at a time, after
  // the next batch has gone out: what their senders do next (reading and
  // parsing more messages) then runs while the database writes, instead of
  // holding up the next batch.
  let waking = false;
  const wakeWaiters = () => {
    if (waking || !waiting.length) return;
    waking = true;
    const step = () => {
      const room = Math.min(opts.maxQueue - depth(), WAKE_SLICE);
      if (room > 0 && !stopped) {
        const next = waiting.length <= room ? waiting : waiting.slice(0, room);
        waiting = next === waiting ? [] : waiting.slice(room);
        for (const w of next) push(w.m);
        for (const w of next) w.queued(true);
      }
      if (waiting.length && depth() < opts.maxQueue && !stopped) setImmediate(step);
      else waking = false;
    };
    setImmediate(step);
  };

  // A full batch is written from a turn of its own, not inside the callback
  // that queued its last message: on PGlite a write runs on this thread, and
  // started from there it ran before anything else waiting (timers, HTTP),
  // write after write while reads kept the queue full (the event loop stalled
  // for seconds under a flood).
  let soon = false;
  const flushSoon = () => {
    if (soon || flushing) return;
    soon = true;
    setImmediate(() => {
      soon = false;
      void flushSome();
    });
  };

  const flushSome = (): Promise<void> => {
    if (flushing) return flushing;
    if (depth() === 0) return Promise.resolve();
    const batch = queue.slice(head, head + opts.batchRows);
    flushing = (async () => {
      try {
        await writeOrSplit(batch);
      } catch (err) {
        failures++;
        flushErrors.inc();
        log.error("ingest: batch failed; will retry", { rows: batch.length, attempt: failures, error: err });
        return;
      } finally {
        flushing = undefined;
      }
      failures = 0;
      head += batch.length;
      if (head === queue.length) (queue = []), (head = 0);
      else if (head >= 4096 && head * 2 >= queue.length) (queue = queue.slice(head)), (head = 0);
      wakeWaiters();
    })().finally(() => {
      if (stopped) return;
      if (depth() >= opts.batchRows && !failures) flushSoon();
      else if (depth()) schedule();
    });
    return flushing;
  };

  return {
    enqueue(m) {
      if (stopped || waiting.length || depth() >= opts.maxQueue) return false;
      push(m);
      return true;
    },
    enqueueWhenRoom(m) {
      if (stopped) return Promise.resolve(false);
      if (!waiting.length && depth() < opts.maxQueue) {
        push(m);
        return Promise.resolve(true);
      }
      return new Promise((queued) => {
        waiting.push({ m, queued });
        // Room may already be there (a flush finished while nobody waited).
        if (depth() < opts.maxQueue) wakeWaiters();
      });
    },
    room: () => (stopped || waiting.length ? 0 : opts.maxQueue - depth()),
    depth,
    async flush() {
      while (depth()) {
        const before = depth();
        await flushSome();
        if (depth() >= before && failures) throw new Error("ingest: cannot write to the database");
      }
    },
    async stop(o = {}) {
      clearTimeout(timer);
      timer = undefined;
      const deadline = performance.now() + (o.deadlineMs ?? DEFAULT_STOP_DEADLINE_MS);
      try {
        // Write while there is time; a few retries, so a database hiccup during shutdown costs nothing.
        let failed = 0;
        while (depth() && performance.now() < deadline && failed < 5) {
          const before = depth();
          await flushSome();
          if (depth() >= before) await Bun.sleep(Math.min(1000, 100 * 2 ** failed++));
        }
      } finally {
        // No batch may be in flight once the queue is taken apart (it would be both written and spooled).
        stopped = true;
        clearTimeout(timer);
        timer = undefined;
        while (flushing) await flushing.catch(() => {});
        const left = queue.slice(head);
        queue = [];
        head = 0;
        // QoS 0 messages (no one to tell) are kept on disk if they can be; the
        // others are failed, so their senders, never acknowledged, send them again.
        const keep = o.spool ? left.filter((m) => !m.done) : [];
        let kept = 0;
        if (keep.length) {
          try {
            await o.spool!(keep);
            kept = keep.length;
            log.warn("ingest: shutdown ran out of time; unwritten QoS 0 messages spooled for the next start", { count: kept });
          } catch (err) {
            log.error("ingest: could not spool unwritten messages", { count: keep.length, error: err });
          }
        }
        const lost = kept ? left.filter((m) => m.done) : left;
        for (const m of lost) m.done?.(new Error("ingest: shut down before the message could be written"));
        if (lost.length) log.error("ingest: messages not written at shutdown", { count: lost.length, acknowledged_later_by_resend: lost.filter((m) => m.done).length });
        for (const w of waiting) w.queued(false);
        waiting = [];
      }
    },
  };
}

/** A message the database refused for its content: never retried, quarantined. */
export class PoisonError extends Error {
  override name = "PoisonError";
}

/** SQLSTATE classes 22 (data exception) and 23 (integrity): the rows, not the connection, are at fault. */
function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === "string" && (code.startsWith("22") || code.startsWith("23"));
}
