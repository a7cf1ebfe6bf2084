// When the write queue is full, messages wait for room in the writer, and
// they get it in the order they came. A message arriving just after a flush
// used to take the room before the waiting ones were let in, so under a full
// queue most messages went straight in and a few waited for seconds, flush
// after flush, their connections unread meanwhile (a device's next message,
// and the alert it raised, waited with them).

import { describe, expect, test } from "bun:test";
import { createWriter, type Accepted } from "../../src/ingest/writer.ts";
import { silentLogger } from "../../src/lib/logger.ts";
import { createMetrics } from "../../src/lib/metrics.ts";
import { answeringDb } from "../helpers/answering-db.ts";

/** A database whose transactions (each a batch) wait until `release()` (those begun so far) or `open()` (all). */
function heldDb() {
  let gate = Promise.withResolvers<void>();
  let opened = false;
  return {
    db: answeringDb(() => (opened ? undefined : gate.promise)),
    release() {
      gate.resolve();
      gate = Promise.withResolvers<void>();
    },
    open() {
      opened = true;
      gate.resolve();
    },
  };
}

const reading = (deviceId: string): Accepted => ({
  env: { tenantId: "acme", deviceId, msgType: "telemetry", time: new Date(Date.UTC(2026, 10, 27, 8)), metrics: { temp_c: 20 } },
  transport: "mqtt",
  receivedAt: new Date(),
});

const turn = () => new Promise<void>((r) => setImmediate(r));
/** A few turns of the event loop: enough for a flush to finish and the waiting to be let in. */
const turns = async () => {
  for (let i = 0; i < 5; i++) await turn();
};

describe("room in a full write queue", () => {
  test("a waiting message is queued before one that arrives after the flush, and the newcomer is told to wait", async () => {
    const { db, release, open } = heldDb();
    const writer = createWriter({ db, log: silentLogger(), metrics: createMetrics(), maxQueue: 4, batchRows: 4, flushMs: 60_000 });
    for (const d of ["pump-1", "pump-2", "pump-3", "pump-4"]) expect(writer.enqueue(reading(d))).toBe(true);
    expect(writer.room()).toBe(0);

    // pump-5 came while the queue was full: it waits.
    let pump5Queued: boolean | undefined;
    void writer.enqueueWhenRoom(reading("pump-5")).then((ok) => (pump5Queued = ok));
    await turn();
    expect(pump5Queued).toBeUndefined();

    // The batch commits. pump-5 is let in on the next turn; pump-6, arriving
    // before that, finds the queue empty but is not let past it.
    release();
    await writer.flush();
    expect(writer.depth()).toBe(0);
    expect(writer.room()).toBe(0);
    expect(writer.enqueue(reading("pump-6"))).toBe(false);
    await turn();
    expect(pump5Queued).toBe(true);
    expect(writer.depth()).toBe(1);
    expect(writer.room()).toBe(3);
    expect(writer.enqueue(reading("pump-6"))).toBe(true);
    open();
    await writer.stop();
  });

  test("waiting messages get the room in the order they came, and none that came later gets in first", async () => {
    const { db, release, open } = heldDb();
    const writer = createWriter({ db, log: silentLogger(), metrics: createMetrics(), maxQueue: 2, batchRows: 2, flushMs: 60_000 });
    const order: string[] = [];
    const send = (d: string) => {
      if (writer.enqueue(reading(d))) return void order.push(d);
      void writer.enqueueWhenRoom(reading(d)).then((ok) => ok && order.push(d));
    };
    for (const d of ["a-1", "a-2", "b-1", "b-2", "c-1"]) send(d);
    await turns();
    expect(order).toEqual(["a-1", "a-2"]);

    // Each commit makes room for the two oldest waiting; a newcomer lines up behind them.
    release();
    await turns();
    expect(order).toEqual(["a-1", "a-2", "b-1", "b-2"]);
    send("c-2");
    await turns();
    expect(order).toEqual(["a-1", "a-2", "b-1", "b-2"]);
    release();
    await turns();
    expect(order).toEqual(["a-1", "a-2", "b-1", "b-2", "c-1", "c-2"]);
    open();
    await writer.stop();
  });

  test("at shutdown the messages still waiting are told they were not queued", async () => {
    const { db, open } = heldDb();
    const writer = createWriter({ db, log: silentLogger(), metrics: createMetrics(), maxQueue: 1, batchRows: 1, flushMs: 60_000 });
    expect(writer.enqueue(reading("pump-1"))).toBe(true);
    const waiting = writer.enqueueWhenRoom(reading("pump-2"));
    const stopped = writer.stop({ deadlineMs: 0 });
    open();
    await stopped;
    expect(await waiting).toBe(false);
    expect(writer.enqueue(reading("pump-3"))).toBe(false);
    expect(await writer.enqueueWhenRoom(reading("pump-3"))).toBe(false);
  });
});
