// pulse alerts list|ack|close
import type { ParseArgsOptionsConfig } from "node:util";
import { runCommand } from "../control/client.ts";
import { table } from "./admin.ts";
import { CONFIG_OPTION, EXIT_OK, EXIT_USAGE, UsageError, guard, parse, quietLogger, readConfig, type Command, type Io } from "./command.ts";

interface AlertOut {
  id: string;
  severity: string;
  status: string;
  device_id: string;
  summary: string;
  opened_at: string;
  silenced_until: string | null;
  suppressed: boolean;
}

/** "42 s ago", "5 min ago", "3 h ago", "2 d ago". */
export function ago(iso: string, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 48 * 3600) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

const notes = (a: AlertOut, now: number) =>
  [a.suppressed ? "[maintenance]" : "", a.silenced_until && Date.parse(a.silenced_until) > now ? `[silenced until ${a.silenced_until}]` : ""].filter(Boolean).join(" ");

function printList(alerts: AlertOut[], io: Io, status: string) {
  if (!alerts.length) return io.out(status === "ALL" ? "no alerts" : `no ${status === "ACTIVE" ? "open or acknowledged" : status.toLowerCase()} alerts`);
  const now = Date.now();
  io.out(
    table([
      ["ID", "SEVERITY", "STATUS", "DEVICE", "OPENED", "SUMMARY"],
      ...alerts.map((a) => [a.id, a.severity, a.status, a.device_id, ago(a.opened_at, now), [a.summary, notes(a, now)].filter(Boolean).join(" ")]),
    ]),
  );
}

const USAGE = `Usage: pulse alerts <subcommand> --tenant TENANT [options]

  list [--status S] [--severity S] [--limit N]   one alert a line, newest first
        --status    OPEN, ACKNOWLEDGED, CLOSED, ALL, or ACTIVE (open or acknowledged; the default)
        --severity  CRITICAL, HIGH, MEDIUM, LOW, INFO or 1-5; several separated by commas
        --limit     at most this many (1-500, default 100)
  ack ID...                                      acknowledge: someone is on it; escalation stops
  close ID... [--reason TEXT]                    close by hand

The timeline records "cli" as the one who acted.
Common options: --json, -c/--config PATH. Works with or without a running server.`;

async function run(argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub || sub === "--help" || sub === "-h") {
    io.out(USAGE);
    return sub ? EXIT_OK : EXIT_USAGE;
  }
  if (sub !== "list" && sub !== "ack" && sub !== "close") throw new UsageError(`unknown subcommand ${sub}`);
  const extra: ParseArgsOptionsConfig =
    sub === "list" ? { status: { type: "string" }, severity: { type: "string" }, limit: { type: "string" } } : sub === "close" ? { reason: { type: "string" } } : {};
  const options: ParseArgsOptionsConfig = { ...CONFIG_OPTION, json: { type: "boolean" }, tenant: { type: "string" }, ...extra };
  const { values, positionals } = parse(rest, options, true);
  const v = values as Record<string, string | boolean | undefined>;
  if (v.help) return io.out(USAGE), EXIT_OK;
  // Checked here too, so a forgotten --tenant never opens a database.
  if (typeof v.tenant !== "string" || v.tenant === "") throw new UsageError("--tenant is required");
  if (sub === "list" && positionals.length) throw new UsageError("list takes no arguments");
  if (sub !== "list" && positionals.length === 0) throw new UsageError(`${sub} takes one or more alert IDs`);

  const args: Record<string, unknown> = { tenant: v.tenant };
  if (sub === "list") Object.assign(args, { status: v.status, severity: v.severity, limit: v.limit });
  else args.ids = positionals;
  if (sub === "close") args.reason = v.reason;

  const config = readConfig(v.config as string | undefined, io.env);
  const { result } = await runCommand(config, quietLogger(config), `alerts.${sub}`, args);
  const alerts = result as AlertOut[];
  if (v.json) return io.out(JSON.stringify(alerts, null, 2)), EXIT_OK;
  if (sub === "list") printList(alerts, io, typeof v.status === "string" ? v.status.toUpperCase() : "ACTIVE");
  else for (const a of alerts) io.out(`${a.id}  ${a.status}  ${a.device_id}  ${a.summary}`);
  return EXIT_OK;
}

export const alerts: Command = {
  name: "alerts",
  summary: "List alerts of a tenant; acknowledge or close them",
  usage: USAGE,
  run: (argv, io) => guard(io, alerts, () => run(argv, io)),
};
