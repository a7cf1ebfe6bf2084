// A shutdown may take 10 s. When the database cannot write everything queued
// in time, the QoS 0 messages (whose senders will never send them again) are
// kept in data_dir/spool and written at the next start; messages whose
// senders wait for an acknowledgement are failed, so they are sent again.
// Nothing is lost, nothing is written twice, and no provisioning token
// reaches the disk.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readdir, readFile, writeFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { Db } from "../../src/db/db.ts";
import { readSpool, spoolFiles, spoolMessages } from "../../src/ingest/spool.ts";
import { createWriter, type Accepted } from "../../src/ingest/writer.ts";
import { createLogger } from "../../src/lib/logger.ts";
import { createMetrics } from "../../src/lib/metrics.ts";
import { seedCast } from "../helpers/cast.ts";
import { registerDevice, telemetryRows, type TestDevice } from "../helpers/devices.ts";
import { startPulse, type TestPulse } from "../helpers/pulse.ts";

setDefaultTimeout(60_000);

const BASE = Date.parse("2026-11-27T08:00:00Z");

describe("the shutdown spool", () => {
  let pulse: TestPulse;
  let d1: TestDevice;
  let dataDir: string;

  beforeAll(async () => {
    // Not started yet: the spool is written by a writer of our own first, then read at start.
    pulse = await startPulse({ listen: false });
    dataDir = pulse.app.config.data_dir;
    await seedCast(pulse.app);
    d1 = await registerDevice(pulse.app, "acme", "d1");
  });
  afterAll(() => pulse.stop());

  const message = (i: number, done?: Accepted["done"]): Accepted => ({
    env: { tenantId: "acme", deviceId: "d1", msgType: "telemetry", time: new Date(BASE + i * 1000), seq: i, metrics: { temp_c: i }, provisionToken: d1.token },
    transport: "mqtt",
    receivedAt: new Date(BASE + i * 1000),
    done,
  });

  test("a database too slow to finish in time: QoS 0 messages are spooled, the acknowledged kind are failed for resending", async () => {
    // Every commit takes 300 ms: ten-message batches cannot write 100 messages in half a second.
    const db = pulse.app.db;
    const slow = new Proxy(db, {
      get: (target, key) =>
        key === "transaction"
          ? async <T,>(fn: Parameters<Db["transaction"]>[0]) => {
              await Bun.sleep(300);
              return target.transaction(fn) as Promise<T>;
            }
          : Reflect.get(target, key),
    });
    const logs: Array<Record<string, unknown>> = [];
    const writer = createWriter({ db: slow, log: createLogger({ level: "debug", format: "json", write: (l) => logs.push(JSON.parse(l)) }), metrics: createMetrics(), maxQueue: 1000, batchRows: 10, flushMs: 5 });

    const outcomes: Array<"written" | "failed"> = [];
    for (let i = 0; i < 100; i++) expect(writer.enqueue(message(i))).toBe(true);
    for (let i = 100; i < 105; i++) writer.enqueue(message(i, (err) => outcomes.push(err ? "failed" : "written")));

    let spooled: readonly Accepted[] = [];
    const started = performance.now();
    await writer.stop({ deadlineMs: 500, spool: async (m) => void (spooled = m, await spoolMessages(dataDir, m, new Date(BASE))) });
    // Half a second, plus the batch in flight at the deadline.
    expect(performance.now() - started).toBeLessThan(2_000);

    const written = (await telemetryRows(pulse.app, "acme", "d1")).map((r) => r.metrics.temp_c as number);
    expect(written.length).toBeGreaterThan(0);
    expect(written.length).toBeLessThan(100);
    // Every QoS 0 message is either written or spooled, never both.
    const spooledSeqs = spooled.map((m) => m.env.seq!);
    expect([...written, ...spooledSeqs].sort((a, b) => a - b)).toEqual([...Array(100).keys()]);
    // The five waiting for an acknowledgement were told they were not written (their senders resend them).
    await Bun.sleep(10);
    expect(outcomes).toEqual(["failed", "failed", "failed", "failed", "failed"]);
    expect(logs.find((l) => l.msg === "ingest: shutdown ran out of time; unwritten QoS 0 messages spooled for the next start")?.count).toBe(spooled.length);
    expect(writer.enqueue(message(200))).toBe(false);

    const [file, ...more] = await spoolFiles(dataDir);
    expect(more).toEqual([]);
    const text = await readFile(file!, "utf8");
    expect(text.trim().split("\n")).toHaveLength(spooled.length);
    expect(text).not.toContain(d1.token);
  });

  test("the next start queues the spooled messages ahead of anything devices send, writes them once, then removes the file", async () => {
    await pulse.app.start();
    const deadline = Date.now() + 10_000;
    while ((await spoolFiles(dataDir)).length && Date.now() < deadline) await Bun.sleep(50);
    expect(await spoolFiles(dataDir)).toEqual([]);
    const rows = await telemetryRows(pulse.app, "acme", "d1");
    expect(rows.map((r) => r.metrics.temp_c)).toEqual([...Array(100).keys()]);
    expect(rows[42]!.time).toEqual(new Date(BASE + 42_000));
    expect(pulse.logs.some((l) => l.msg === "ingest: replaying messages spooled at the last shutdown")).toBe(true);
  });

  test("a damaged line is skipped and reported; the rest of the file is read", async () => {
    const dir = join(dataDir, "spool-damaged");
    await mkdir(dir);
    const path = await spoolMessages(dir, [message(1), message(2)], new Date(BASE));
    await writeFile(path, (await readFile(path, "utf8")) + '{"env": {"tenantId": "ac\n');
    const logs: Array<Record<string, unknown>> = [];
    const read = await readSpool(path, createLogger({ level: "debug", format: "json", write: (l) => logs.push(JSON.parse(l)) }));
    expect(read.map((m) => m.env.seq)).toEqual([1, 2]);
    expect(read[0]!.env.time).toEqual(new Date(BASE + 1000));
    expect(read[0]!.env.provisionToken).toBeUndefined();
    expect(logs.map((l) => [l.msg, l.lines])).toEqual([["ingest: spool file has unreadable lines; they are skipped", 1]]);
    expect((await readdir(join(dir, "spool"))).filter((n) => n.endsWith(".tmp"))).toEqual([]);
  });
});
