// On the embedded database a write runs on Pulse's own thread. A device
// flood used to start each full batch's write inside the very callback that
// queued its last message, write after write, and the event loop stalled for
// seconds (timers, the web UI and /metrics waited). A full batch is now
// written from a turn of its own: whatever else is due goes first.

import { describe, expect, test } from "bun:test";
import { createWriter, type Accepted } from "../../src/ingest/writer.ts";
import { silentLogger } from "../../src/lib/logger.ts";
import { createMetrics } from "../../src/lib/metrics.ts";
import { answeringDb } from "../helpers/answering-db.ts";

/** A database that answers at once, as PGlite does from this thread; counts transactions begun. */
function instantDb() {
  let begun = 0;
  const db = answeringDb(() => {
    begun++;
  });
  return Object.defineProperty(db, "begun", { get: () => begun }) as typeof db & { readonly begun: number };
}

const reading = (i: number): Accepted => ({
  env: { tenantId: "acme", deviceId: "pump-7", msgType: "telemetry", time: new Date(Date.UTC(2026, 10, 27, 8, 0, i)), metrics: { temp_c: 20 + i } },
  transport: "mqtt",
  receivedAt: new Date(),
});

describe("the batch writer's turns", () => {
  test("a batch filled inside one callback is written from a turn of its own, after what was already due", async () => {
    const db = instantDb();
    const writer = createWriter({ db, log: silentLogger(), metrics: createMetrics(), maxQueue: 100, batchRows: 10, flushMs: 60_000 });
    const order: string[] = [];
    setImmediate(() => order.push("due before"));

    for (let i = 0; i < 10; i++) expect(writer.enqueue(reading(i))).toBe(true);
    // Not in this callback, nor in the promise jobs that follow it.
    for (let i = 0; i < 5; i++) await Promise.resolve();
    expect(db.begun).toBe(0);

    await new Promise<void>((r) => setImmediate(r));
    order.push(`written: ${db.begun}`);
    expect(order).toEqual(["due before", "written: 1"]);
    await writer.flush();
    expect(writer.depth()).toBe(0);
  });

  test("under a flood the writes still follow each other, each in its own turn, until the queue is down to less than a batch", async () => {
    const db = instantDb();
    const writer = createWriter({ db, log: silentLogger(), metrics: createMetrics(), maxQueue: 100, batchRows: 10, flushMs: 60_000 });
    for (let i = 0; i < 35; i++) writer.enqueue(reading(i));
    const turns: number[] = [];
    for (let t = 0; t < 6; t++) {
      await new Promise<void>((r) => setImmediate(r));
      turns.push(db.begun);
    }
    // One batch a turn at most; three full batches, and the last 5 wait for flush_ms.
    expect(Math.max(...turns.map((n, i) => n - (turns[i - 1] ?? 0)))).toBeLessThanOrEqual(1);
    expect(db.begun).toBe(3);
    expect(writer.depth()).toBe(5);
    await writer.stop();
  });
});
