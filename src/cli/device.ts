// pulse device add|list|rotate-token|revoke|import
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { runCommand } from "../control/client.ts";
import { CONFIG_OPTION, EXIT_FAILURE, EXIT_OK, UsageError, guard, parse, quietLogger, readConfig, type Command, type Io } from "./command.ts";
import { runSub, table, type Sub } from "./admin.ts";

interface DeviceOut {
  id: string;
  name: string;
  siteId: string;
  status: string;
  connectivity: string;
  lastSeenAt: string | null;
  decommissionReason: string | null;
}

const SUBS: Record<string, Sub> = {
  add: {
    command: "device.add",
    positionals: ["id"],
    options: { tenant: { type: "string" }, site: { type: "string" }, name: { type: "string" }, tag: { type: "string", multiple: true } },
    print: (r, io, json) => {
      const out = r as { device: DeviceOut; token: string };
      if (json) return io.out(JSON.stringify(out, null, 2));
      io.out(out.token);
      io.err(`Device ${out.device.id} (site ${out.device.siteId}) is registered and ACTIVE.\nThis is the only time its provision token is shown. The device sends it as X-Provision-Token (HTTP) or as its MQTT password.`);
    },
  },
  list: {
    command: "device.list",
    options: { tenant: { type: "string" } },
    print: (r, io, json) => {
      const ds = r as DeviceOut[];
      if (json) return io.out(JSON.stringify(ds, null, 2));
      if (!ds.length) return io.out("no devices yet; add one with: pulse device add --tenant T --site S ID");
      io.out(table([["ID", "STATUS", "CONNECTIVITY", "SITE", "LAST SEEN", "NAME"], ...ds.map((d) => [d.id, d.status, d.connectivity, d.siteId, d.lastSeenAt ?? "never", d.name])]));
    },
  },
  "rotate-token": {
    command: "device.rotate-token",
    positionals: ["id"],
    options: { tenant: { type: "string" }, "overlap-seconds": { type: "string" } },
    print: (r, io, json) => {
      const out = r as { token: { id: string; expiresAt: string | null }; secret: string };
      if (json) return io.out(JSON.stringify(out, null, 2));
      io.out(out.secret);
      io.err("New provision token above, shown only this once. The old token stops working at once, or when the overlap you gave ends.");
    },
  },
  revoke: {
    command: "device.revoke",
    positionals: ["id"],
    options: { tenant: { type: "string" }, reason: { type: "string" } },
    print: (r, io, json) => {
      const d = r as DeviceOut;
      if (json) return io.out(JSON.stringify(d, null, 2));
      io.out(`device ${d.id} decommissioned${d.decommissionReason ? ` (${d.decommissionReason})` : ""}: its tokens are revoked and ingest answers DEVICE_REVOKED; its history is kept`);
    },
  },
};

interface ImportOut {
  ok: boolean;
  dryRun: boolean;
  created: number;
  rows: Array<{ line: number; deviceId: string; ok: boolean; errors: string[] }>;
  credentialsCsv?: string;
}

/** fleet.csv → fleet.credentials.csv (anything else gets .credentials.csv appended). */
export function credentialsPath(file: string): string {
  return /\.csv$/i.test(file) ? file.replace(/\.csv$/i, ".credentials.csv") : `${file}.credentials.csv`;
}

async function runImport(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, { ...CONFIG_OPTION, json: { type: "boolean" }, tenant: { type: "string" }, "dry-run": { type: "boolean" } }, true);
  if (values.help) return io.out(device.usage), EXIT_OK;
  if (positionals.length !== 1) throw new UsageError("import takes FILE.csv");
  const file = positionals[0]!;
  const dryRun = values["dry-run"] === true;
  let csv: string;
  try {
    csv = readFileSync(file, "utf8");
  } catch (err) {
    throw new Error(`cannot read ${file}: ${(err as Error).message}`);
  }
  const config = readConfig(values.config as string | undefined, io.env);
  // The tokens exist only in this file: claim it (mode 0600, never overwriting) before importing.
  const creds = credentialsPath(file);
  let fd: number | undefined;
  if (!dryRun) {
    try {
      fd = openSync(creds, "wx", 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EEXIST") throw new Error(`${creds} already exists; move it away first (it may hold the tokens of an earlier import)`);
      throw new Error(`cannot create ${creds}: ${(err as Error).message}`);
    }
  }
  let result: ImportOut | undefined;
  try {
    result = (await runCommand(config, quietLogger(config), "device.import", { tenant: values.tenant, csv, dry_run: dryRun })).result as ImportOut;
    if (fd !== undefined && result.credentialsCsv) writeSync(fd, result.credentialsCsv);
  } finally {
    if (fd !== undefined) {
      closeSync(fd);
      if (!result?.credentialsCsv) unlinkSync(creds);
    }
  }
  const report = result;
  const { credentialsCsv, ...rest } = report;
  if (values.json) io.out(JSON.stringify(rest, null, 2));
  else {
    const bad = report.rows.filter((r) => !r.ok);
    for (const r of bad) io.out(`line ${r.line}${r.deviceId ? ` (${r.deviceId})` : ""}: ${r.errors.join("; ")}`);
    if (!report.ok) io.out(`${bad.length} of ${report.rows.length} rows have problems; nothing was imported`);
    else if (dryRun) io.out(`all ${report.rows.length} rows are fine (dry run: nothing was imported)`);
    else io.out(`imported ${report.created} devices`);
  }
  if (credentialsCsv) io.err(`wrote ${report.created} provision tokens to ${creds} (mode 0600): the only copy; hand each device its token, then delete the file`);
  return report.ok ? EXIT_OK : EXIT_FAILURE;
}

export const device: Command = {
  name: "device",
  summary: "Add, list, import or decommission devices; rotate their tokens",
  usage: `Usage: pulse device <subcommand> --tenant T [options]

  add --tenant T --site S ID [--name N] [--tag k=v ...]   register a device; prints its provision token once
  list --tenant T                                         one device a line: status, connectivity, site
  rotate-token --tenant T ID [--overlap-seconds N]        new token (printed once); the old one stops now or after N seconds
  revoke --tenant T ID [--reason R]                       decommission: tokens revoked, history kept
  import --tenant T FILE.csv [--dry-run]                  all-or-nothing CSV import; tokens go to FILE.credentials.csv (0600)

CSV columns: device_id,name,site_id,tags,heartbeat_seconds,model,serial,lat,lng,parent_device_id
(header required; tags as k=v;k2=v2). Common options: --json, -c/--config PATH.
Works with or without a running server.`,
  run: (argv, io) => guard(io, device, () => (argv[0] === "import" ? runImport(argv.slice(1), io) : runSub(argv, io, SUBS, device.usage))),
};
