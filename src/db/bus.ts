// Change notifications between nodes over LISTEN/NOTIFY. A NOTIFY sent
// inside a transaction is delivered only when it commits, so listeners never
// hear about a change that was rolled back.

import type { Sql } from "./db.ts";

/** Registry changes: payload "tenant" or "tenant/device"; ingest caches listen. */
export const DEVICES_CHANNEL = "pulse_devices";

export async function notifyChange(tx: Sql, channel: string, payload: string): Promise<void> {
  await tx.query("select pg_notify($1, $2)", [channel, payload]);
}
