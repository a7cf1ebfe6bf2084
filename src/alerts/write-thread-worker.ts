// The alert writer thread's side (a Worker; see write-thread.ts). It opens
// Postgres connections of its own and runs each alert transaction it is handed
// (apply.ts) with the same hooks the app attaches to its alert bus, so what
// commits with an alert change is the same on either thread. Its event loop has
// nothing else to do, so a transaction's round trips cost what Postgres takes,
// not what the main thread is busy with.

import { openPostgres } from "../db/postgres.ts";
import type { Db } from "../db/db.ts";
import { applyChanges } from "./apply.ts";
import { createAlertBus } from "./bus.ts";
import { attachTransitionHooks } from "./transition-hooks.ts";
import type { ThreadReply, ThreadRequest } from "./write-thread.ts";

declare const self: Worker;

let db: Db | undefined;
// The app's public URL as of the latest request (links in notifications; it may change once the HTTP port is known).
let publicUrl = "";
const bus = createAlertBus();

const reply = (r: ThreadReply) => self.postMessage(r);

self.onmessage = async (e: MessageEvent<ThreadRequest>) => {
  const req = e.data;
  if (req.type === "open") {
    try {
      db = await openPostgres(req.db);
      attachTransitionHooks(bus, { publicUrl: () => publicUrl, retryHorizonSeconds: req.retryHorizonSeconds });
      reply({ type: "opened" });
    } catch (err) {
      reply({ type: "failed", message: (err as Error).message });
    }
    return;
  }
  if (req.type === "apply") {
    publicUrl = req.publicUrl;
    try {
      if (!db) throw new Error("alerts: the writer thread has no database open");
      reply({ type: "applied", id: req.id, transitions: await applyChanges(db, bus, req.states, req.actions) });
    } catch (err) {
      const { message, code } = err as { message?: string; code?: unknown };
      reply({ type: "applied", id: req.id, error: { message: String(message ?? err), code: typeof code === "string" ? code : undefined } });
    }
    return;
  }
  if (req.type === "close") {
    await db?.close().catch(() => {});
    db = undefined;
    reply({ type: "closed" });
  }
};
