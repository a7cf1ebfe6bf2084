// Boot a whole Pulse in this process on free ports, against a fresh PGlite or
// Postgres database, and tear it down again. Tests that need no socket call
// `pulse.request()` (hono's app.request); the rest use `pulse.url`.

import type { LoadOptions } from "../../src/config.ts";
import { createApp, type App } from "../../src/app.ts";
import { manualClock, type Clock } from "../../src/lib/clock.ts";
import { createLogger, type Logger } from "../../src/lib/logger.ts";
import { loadAssets, type Assets } from "../../web/assets.ts";
import { freshDb, type DbKind, type TestDb } from "./databases.ts";

export interface TestPulse {
  app: App;
  db: TestDb;
  /** http://127.0.0.1:<port>, after start. */
  url: string;
  mqttPort: number;
  /** Log lines written so far (JSON objects), for asserting on logs. */
  logs: Array<Record<string, unknown>>;
  /** Text the one-time banner printed. */
  banner: string[];
  request(path: string, init?: RequestInit): Promise<Response>;
  stop(): Promise<void>;
}

export interface StartOptions {
  db?: DbKind;
  /** Open sockets (HTTP, MQTT, control). Default true. */
  listen?: boolean;
  config?: LoadOptions["overrides"];
  clock?: Clock;
}

let assets: Promise<Assets> | undefined;

export async function startPulse(opts: StartOptions = {}): Promise<TestPulse> {
  const db = await freshDb(opts.db ?? "pglite", { "log.level": "debug", ...opts.config });
  const logs: Array<Record<string, unknown>> = [];
  const banner: string[] = [];
  const log: Logger = createLogger({ level: "debug", format: "json", write: (line) => logs.push(JSON.parse(line)) });
  const app = await createApp({
    config: db.config,
    log,
    clock: opts.clock,
    database: db,
    assets: await (assets ??= loadAssets()),
    banner: (t) => banner.push(t),
  });
  const listen = opts.listen ?? true;
  if (listen) await app.start();
  const pulse: TestPulse = {
    app,
    db,
    url: listen ? `http://${db.config["http.host"]}:${app.ports.http}` : "http://pulse.test",
    mqttPort: app.ports.mqtt,
    logs,
    banner,
    request: (path, init) => Promise.resolve(app.http.request(path, init)),
    stop: async () => {
      await app.stop();
      if (db.kind === "postgres") await db.dispose();
    },
  };
  return pulse;
}

export { manualClock };

/** A port that was free a moment ago (for tests that must know the port before start, e.g. public_url). */
export async function freePort(host = "127.0.0.1"): Promise<number> {
  const net = await import("node:net");
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, host, () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}
