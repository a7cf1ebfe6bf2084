// HTTP ingest (PROTOCOL.md): one message at
// POST /ingest/v1/tenant/{tenant}/device/{device}/{telemetry|heartbeat}
// with X-Provision-Token (or Authorization: Bearer), or many at
// POST /ingest/v1/batch. 202 only once committed; every error names its
// reason code; 503 + Retry-After when the write queue is full.

import { Hono, type Context } from "hono";
import type { HttpEnv } from "../http/env.ts";
import type { Clock } from "../lib/clock.ts";
import type { Gate, Verdict } from "./accept.ts";
import { parseEnvelope, parseMessage, type Envelope, type MsgType, type Parsed, type Reason } from "./parse.ts";
import { PoisonError, type Accepted } from "./writer.ts";

export interface HttpIngestOptions {
  gate: Gate;
  clock: Clock;
  maxMessageBytes: number;
  maxBatchMessages: number;
  maxBatchBytes: number;
  /** Suggested wait when the queue is full. */
  retryAfterSeconds: number;
  /** The per-device rate (for RATE_LIMITED's Retry-After). */
  ratePerSecond: number;
}

const STATUS: Record<Reason, number> = {
  PAYLOAD_TOO_LARGE: 413,
  INVALID_JSON: 400,
  INVALID_TOPIC: 400,
  UNSUPPORTED_VERSION: 400,
  MISSING_METRICS: 400,
  INVALID_METRIC: 400,
  FUTURE_TIMESTAMP: 400,
  STALE_TIMESTAMP: 400,
  SITE_MISMATCH: 400,
  TOKEN_MISSING: 401,
  TOKEN_INVALID: 401,
  UNREGISTERED_DEVICE: 403,
  DEVICE_REVOKED: 403,
  SUBSCRIPTION_SUSPENDED: 403,
  DEVICE_LIMIT: 403,
  RATE_LIMITED: 429,
};

export function ingestRoutes(opts: HttpIngestOptions): Hono<HttpEnv> {
  const app = new Hono<HttpEnv>();

  const refused = (c: Context<HttpEnv>, reason: Reason, detail: string) => {
    if (reason === "RATE_LIMITED") c.header("Retry-After", String(Math.max(1, Math.ceil(1 / Math.max(opts.ratePerSecond, 0.001)))));
    return c.json({ reason, error: { code: reason, message: detail } }, STATUS[reason] as 400);
  };
  const busy = (c: Context<HttpEnv>) => {
    c.header("Retry-After", String(opts.retryAfterSeconds));
    return c.json({ reason: "QUEUE_FULL", error: { code: "unavailable", message: "the write queue is full; retry after the given seconds" } }, 503);
  };

  app.post("/ingest/v1/tenant/:tenant/device/:device/:msgType", async (c) => {
    const msgType = c.req.param("msgType");
    const origin = { tenantId: c.req.param("tenant"), deviceId: c.req.param("device"), msgType: msgType as MsgType };
    const token = c.req.header("x-provision-token") ?? /^Bearer\s+(\S+)$/i.exec(c.req.header("authorization") ?? "")?.[1];
    const body = await readBody(c, opts.maxMessageBytes);
    const now = opts.clock.now();
    let parsed: Parsed;
    if (body === "too-large") parsed = { ok: false, reason: "PAYLOAD_TOO_LARGE", detail: `at most ${opts.maxMessageBytes} bytes`, ...origin };
    else if (msgType !== "telemetry" && msgType !== "heartbeat") parsed = { ok: false, reason: "INVALID_TOPIC", detail: "the path must end in /telemetry or /heartbeat", ...origin };
    else parsed = parseMessage(body, origin, { now, maxBytes: opts.maxMessageBytes });
    if (!parsed.ok) {
      opts.gate.reject({ tenantId: parsed.tenantId, deviceId: parsed.deviceId, reason: parsed.reason, detail: parsed.detail, transport: "http", topic: c.req.path, payload: body === "too-large" ? undefined : body, time: now });
      return refused(c, parsed.reason, parsed.detail);
    }
    let settle!: (err?: Error) => void;
    const committed = new Promise<void>((res, rej) => (settle = (err) => (err ? rej(err) : res())));
    const verdict = await opts.gate.admit(parsed.env, { kind: "token", token: token ?? parsed.env.provisionToken }, { transport: "http", topic: c.req.path, payload: body as Uint8Array, done: settle });
    if (!verdict.ok) return refused(c, verdict.reason, verdict.detail);
    if (!verdict.queued) return busy(c);
    try {
      await committed;
    } catch (err) {
      // The database refused this message's content (it is in the quarantine); anything else is ours.
      if (err instanceof PoisonError) return refused(c, "INVALID_METRIC", err.message);
      throw err;
    }
    return c.json({ accepted: true }, 202);
  });

  app.post("/ingest/v1/batch", async (c) => {
    const body = await readBody(c, opts.maxBatchBytes);
    if (body === "too-large") return refused(c, "PAYLOAD_TOO_LARGE", `a batch is at most ${opts.maxBatchBytes} bytes`);
    let doc: unknown;
    try {
      doc = JSON.parse(new TextDecoder().decode(body));
    } catch {
      return refused(c, "INVALID_JSON", "body is not JSON");
    }
    const messages = (doc as { messages?: unknown })?.messages;
    if (!Array.isArray(messages)) return refused(c, "INVALID_JSON", 'body must be {"messages": [ … ]}');
    if (messages.length > opts.maxBatchMessages) return refused(c, "PAYLOAD_TOO_LARGE", `at most ${opts.maxBatchMessages} messages a batch`);
    const now = opts.clock.now();

    // Check everything first; queue the good ones together, or none if they do not fit.
    const results: Array<{ index: number; ok: boolean; reason?: Reason; detail?: string }> = [];
    const good: Array<{ env: Envelope; verdict: Extract<Verdict, { ok: true }> }> = [];
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i];
      const size = Buffer.byteLength(JSON.stringify(m) ?? "");
      const parsed: Parsed =
        size > opts.maxMessageBytes ? { ok: false, reason: "PAYLOAD_TOO_LARGE", detail: `message ${i} is ${size} bytes; at most ${opts.maxMessageBytes}` } : parseEnvelope(m, {}, now);
      if (!parsed.ok) {
        opts.gate.reject({ tenantId: parsed.tenantId, deviceId: parsed.deviceId, reason: parsed.reason, detail: parsed.detail, transport: "http", topic: c.req.path, payload: JSON.stringify(m)?.slice(0, 2048), time: now });
        results.push({ index: i, ok: false, reason: parsed.reason, detail: parsed.detail });
        continue;
      }
      const verdict = await opts.gate.check(parsed.env, { kind: "token", token: parsed.env.provisionToken });
      if (!verdict.ok) {
        opts.gate.reject({ tenantId: parsed.env.tenantId, deviceId: parsed.env.deviceId, reason: verdict.reason, detail: verdict.detail, transport: "http", topic: c.req.path, payload: JSON.stringify(m).slice(0, 2048), time: now });
        results.push({ index: i, ok: false, reason: verdict.reason, detail: verdict.detail });
        continue;
      }
      good.push({ env: parsed.env, verdict });
      results.push({ index: i, ok: true });
    }
    const commits: Promise<void>[] = [];
    const queued: Accepted[] = good.map(({ env, verdict }) => {
      let settle!: (err?: Error) => void;
      commits.push(new Promise<void>((res, rej) => (settle = (err) => (err ? rej(err) : res()))));
      return { env, transport: "http", receivedAt: now, tokenId: verdict.tokenId, done: settle };
    });
    if (!opts.gate.queueChecked(queued)) return busy(c);
    await Promise.all(commits);
    const accepted = good.length;
    return c.json({ accepted, rejected: results.length - accepted, results }, 202);
  });

  return app;
}

/** The body as bytes, or "too-large" without reading more than limit + 1 bytes. */
async function readBody(c: Context<HttpEnv>, limit: number): Promise<Uint8Array | "too-large"> {
  const declared = Number(c.req.header("content-length") ?? NaN);
  if (declared > limit) return "too-large";
  const reader = c.req.raw.body?.getReader();
  if (!reader) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      return "too-large";
    }
    chunks.push(value);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}
