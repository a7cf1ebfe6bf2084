// GET /api/v1/live: Server-Sent Events for the signed-in person's tenant
// (operators without a tenant hear every tenant). Comments keep the stream
// alive through proxies; a client that reconnects re-reads its page.
import type { Context } from "hono";
import { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import { principalOf } from "../auth/middleware.ts";
import type { HttpEnv } from "../http/env.ts";
import { AppError } from "../lib/errors.ts";
import type { Hub, LiveEvent } from "./hub.ts";

const KEEPALIVE_MS = 15_000;

export function liveRoutes(hub: Hub): Hono<HttpEnv> {
  const app = new Hono<HttpEnv>();
  app.get("/api/v1/live", (c: Context<HttpEnv>) => {
    const p = principalOf(c);
    const scope = p.tenantId ?? (p.platformRole ? "*" : undefined);
    if (!scope) throw new AppError("forbidden", "choose a tenant first");
    c.header("Cache-Control", "no-store");
    c.header("X-Accel-Buffering", "no");
    return streamSSE(c, async (stream) => {
      const queue: LiveEvent[] = [];
      let wake: (() => void) | undefined;
      const off = hub.subscribe(scope, (e) => {
        if (queue.length < 1000) queue.push(e);
        wake?.();
      });
      stream.onAbort(() => {
        off();
        wake?.();
      });
      await stream.writeSSE({ event: "ready", data: JSON.stringify({ tenant_id: p.tenantId }) });
      try {
        while (!stream.aborted) {
          await new Promise<void>((r) => {
            wake = r;
            setTimeout(r, KEEPALIVE_MS);
          });
          wake = undefined;
          if (stream.aborted) break;
          if (!queue.length) {
            await stream.write(": keep-alive\n\n");
            continue;
          }
          for (const e of queue.splice(0)) await stream.writeSSE({ event: e.type, data: JSON.stringify({ tenant_id: e.tenantId, ...e.data }) });
        }
      } finally {
        off();
      }
    });
  });
  return app;
}
