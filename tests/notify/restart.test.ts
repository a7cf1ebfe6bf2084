// The outbox lives in Postgres, so a notification waiting for its retry
// survives a restart: stop Pulse with a retry pending, start a new Pulse on
// the same database, and it is delivered — once, with the same webhook-id.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { withSystem } from "../../src/db/scope.ts";
import { createPostgresDatabase, databaseUrl, dropPostgresDatabase } from "../helpers/databases.ts";
import { startHttpReceiver, verifyWebhook, type HttpReceiver } from "../helpers/receivers.ts";
import { startPulse } from "../helpers/pulse.ts";
import { startWorld, type World } from "./fixtures.ts";

const SECRET = "whsec_" + Buffer.from("restart-secret-restart-secret").toString("base64");
let rx: HttpReceiver;
let name: string;

beforeAll(async () => {
  rx = startHttpReceiver();
  name = await createPostgresDatabase();
}, 60_000);
afterAll(async () => {
  rx.stop();
  await dropPostgresDatabase(name);
}, 60_000);

test("a retry pending when Pulse stops is delivered by the next Pulse on the same database", async () => {
  const config = { "database.url": databaseUrl(name) };
  const first: World = await startWorld({ config });
  let channel: string;
  try {
    rx.script("/hook", 503);
    channel = await first.channel("webhook", { url: rx.url("/hook"), secret: SECRET });
    await first.route(channel);
    await first.rule("m_restart");
    await first.send("pump-7", { m_restart: 120 });
    await first.drain();
    expect(rx.at("/hook")).toHaveLength(1);
    expect((await first.deliveries(channel))[0]).toMatchObject({ status: "pending", attempts: 1 });
  } finally {
    await first.stop();
  }

  // Meanwhile the retry came due.
  const second = await startPulse({ config: { "notify.allow_private_networks": true, ...config } });
  try {
    await withSystem(second.app.db, (tx) => tx.query("update notification_outbox set next_attempt_at = now()"));
    await second.app.drainOutbox();
    const reqs = await rx.waitFor("/hook", 2);
    expect(reqs).toHaveLength(2);
    expect(reqs[1]!.headers["webhook-id"]).toBe(reqs[0]!.headers["webhook-id"]!);
    expect(verifyWebhook(SECRET, reqs[1]!).data.alert.device_id).toBe("pump-7");
    const [row] = await withSystem(second.app.db, (tx) => tx.query<{ status: string; attempts: number }>("select status, attempts from notification_outbox where channel_id = $1", [channel!]));
    expect(row).toEqual({ status: "delivered", attempts: 2 });
  } finally {
    await second.stop();
  }
});
