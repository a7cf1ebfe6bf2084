// Native time partitions for telemetry when TimescaleDB is not in use: one
// partition a UTC day, created ahead of time and dropped after the retention
// period. Run by the leader every hour and once at start.

import type { Db, Sql } from "./db.ts";
import { asOwner } from "./scope.ts";

const DAY_MS = 86_400_000;
const NAME = /^telemetry_p(\d{4})(\d{2})(\d{2})$/;

export interface PartitionPlan {
  now: Date;
  retentionDays: number;
  /** Days created ahead of today. */
  aheadDays?: number;
}

export interface PartitionResult {
  created: string[];
  dropped: string[];
}

/** Create missing day partitions and drop expired ones. */
export async function maintainPartitions(db: Db, plan: PartitionPlan): Promise<PartitionResult> {
  const today = Math.floor(plan.now.getTime() / DAY_MS) * DAY_MS;
  // Messages up to 30 days old are accepted (PROTOCOL.md), so those days get partitions too.
  const first = today - Math.min(plan.retentionDays, 31) * DAY_MS;
  const last = today + (plan.aheadDays ?? 7) * DAY_MS;
  const cutoff = today - plan.retentionDays * DAY_MS;

  return asOwner(db, async (tx) => {
    const existing = new Set((await listPartitions(tx)).map((p) => p.name));
    const created: string[] = [];
    for (let day = first; day <= last; day += DAY_MS) {
      const name = partitionName(day);
      if (existing.has(name)) continue;
      await createPartition(tx, name, new Date(day), new Date(day + DAY_MS));
      created.push(name);
    }
    const dropped: string[] = [];
    for (const name of existing) {
      const start = partitionStart(name);
      if (start !== undefined && start + DAY_MS <= cutoff) {
        await tx.exec(`drop table ${name}`);
        dropped.push(name);
      }
    }
    await tx.query("delete from telemetry_default where time < $1", [new Date(cutoff)]);
    return { created, dropped };
  });
}

async function listPartitions(tx: Sql): Promise<Array<{ name: string }>> {
  return tx.query<{ name: string }>(
    "select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid where i.inhparent = 'telemetry'::regclass",
  );
}

/**
 * Rows that landed in the default partition for this day (late or early
 * messages) would block the new partition, so they move into it.
 */
async function createPartition(tx: Sql, name: string, from: Date, to: Date): Promise<void> {
  const range = [from.toISOString(), to.toISOString()];
  await tx.exec("create temporary table if not exists telemetry_moving (like telemetry) on commit drop");
  await tx.query("with moved as (delete from telemetry_default where time >= $1 and time < $2 returning *) insert into telemetry_moving select * from moved", range);
  await tx.exec(`create table ${name} partition of telemetry for values from ('${range[0]}') to ('${range[1]}')`);
  await tx.exec("insert into telemetry select * from telemetry_moving; truncate telemetry_moving");
}

function partitionName(dayMs: number): string {
  return "telemetry_p" + new Date(dayMs).toISOString().slice(0, 10).replaceAll("-", "");
}

function partitionStart(name: string): number | undefined {
  const m = NAME.exec(name);
  return m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : undefined;
}
