// Liveness and readiness for load balancers and orchestrators.
//   /healthz: the process answers (no dependencies checked).
//   /readyz:  the database answers and the broker listens; 503 otherwise, with
//             which check failed, so a load balancer stops sending traffic.

import { Hono } from "hono";
import type { HttpEnv } from "./env.ts";

export type ReadinessCheck = () => Promise<void>;

export function healthRoutes(checks: Record<string, ReadinessCheck>): Hono<HttpEnv> {
  const app = new Hono<HttpEnv>();
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get("/readyz", async (c) => {
    const results: Record<string, string> = {};
    let ready = true;
    await Promise.all(
      Object.entries(checks).map(async ([name, check]) => {
        try {
          await withTimeout(check(), 2000);
          results[name] = "ok";
        } catch (err) {
          ready = false;
          results[name] = (err as Error).message;
        }
      }),
    );
    c.header("Cache-Control", "no-store");
    return c.json({ status: ready ? "ready" : "not ready", checks: results }, ready ? 200 : 503);
  });
  return app;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]);
}
