// What `pulse status`, the fleet page and /readyz say about this process.
import type { Db } from "../db/db.ts";
import type { DbInfo } from "../db/open.ts";
import { COMMIT, VERSION } from "../lib/version.ts";
import { countAll, type Counts } from "./store.ts";

export interface Status {
  version: string;
  commit: string;
  /** Seconds since this server started; null when the CLI opened the database itself. */
  uptimeSeconds: number | null;
  database: { kind: Db["kind"]; serverVersion: string; migration: number; telemetry: "hypertable" | "partitions" };
  counts: Counts;
}

/** Version, uptime, database and counts. */
export async function getStatus(deps: { db: Db; dbInfo: DbInfo; startedAt?: Date; now: Date }): Promise<Status> {
  return {
    version: VERSION,
    commit: COMMIT,
    uptimeSeconds: deps.startedAt ? Math.round((deps.now.getTime() - deps.startedAt.getTime()) / 1000) : null,
    database: {
      kind: deps.dbInfo.kind,
      serverVersion: deps.dbInfo.serverVersion,
      migration: deps.dbInfo.migrations.current,
      telemetry: deps.dbInfo.timescale.hypertable ? "hypertable" : "partitions",
    },
    counts: await countAll(deps.db),
  };
}
