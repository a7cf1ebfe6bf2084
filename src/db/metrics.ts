// The database pool's figures on /metrics, read at scrape time.

import type { Metrics } from "../lib/metrics.ts";
import type { Db, DbStats } from "./db.ts";

export function registerDbMetrics(metrics: Metrics, db: Pick<Db, "stats">): void {
  const stat = (pick: (s: DbStats) => number) => () => pick(db.stats());
  metrics.collect("pulse_db_pool_max", "Most database connections Pulse opens.", stat((s) => s.poolMax));
  metrics.collect("pulse_db_queries_total", "Queries sent to the database.", stat((s) => s.queries), "counter");
  metrics.collect("pulse_db_query_errors_total", "Queries that failed.", stat((s) => s.errors), "counter");
  metrics.collect("pulse_db_inflight_queries", "Queries waiting for an answer now.", stat((s) => s.inflight));
}
