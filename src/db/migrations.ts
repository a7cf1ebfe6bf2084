// The numbered SQL files, imported as text so they live inside the binary.
// Append a line here with each new file; tests check the list matches the folder.
import m0001 from "../../migrations/0001_init.sql" with { type: "text" };
import m0002 from "../../migrations/0002_telemetry.sql" with { type: "text" };
import m0003 from "../../migrations/0003_identity.sql" with { type: "text" };
import m0004 from "../../migrations/0004_devices.sql" with { type: "text" };
import m0005 from "../../migrations/0005_alerts.sql" with { type: "text" };
import m0006 from "../../migrations/0006_notifications.sql" with { type: "text" };
import m0007 from "../../migrations/0007_oncall.sql" with { type: "text" };
import m0008 from "../../migrations/0008_retention_indexes.sql" with { type: "text" };
import m0009 from "../../migrations/0009_outbox_order.sql" with { type: "text" };

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: "0001_init.sql", sql: m0001 },
  { version: 2, name: "0002_telemetry.sql", sql: m0002 },
  { version: 3, name: "0003_identity.sql", sql: m0003 },
  { version: 4, name: "0004_devices.sql", sql: m0004 },
  { version: 5, name: "0005_alerts.sql", sql: m0005 },
  { version: 6, name: "0006_notifications.sql", sql: m0006 },
  { version: 7, name: "0007_oncall.sql", sql: m0007 },
  { version: 8, name: "0008_retention_indexes.sql", sql: m0008 },
  { version: 9, name: "0009_outbox_order.sql", sql: m0009 },
];
