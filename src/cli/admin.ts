// Shared by the admin command groups (tenant, user, apikey): run one control
// command with the options given, print JSON or a table.
import { runCommand } from "../control/client.ts";
import { CONFIG_OPTION, EXIT_OK, UsageError, parse, quietLogger, readConfig, type Io } from "./command.ts";

type Options = NonNullable<Parameters<typeof parse>[1]>;

export interface Sub {
  /** Control command to run. */
  command: string;
  options?: Options;
  /** Names of positional arguments, in order (all required). */
  positionals?: string[];
  print(result: unknown, io: Io, json: boolean): void;
}

export async function runSub(argv: string[], io: Io, subs: Record<string, Sub>, usage: string): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h") {
    io.out(usage);
    return name ? EXIT_OK : 2;
  }
  const sub = subs[name];
  if (!sub) throw new UsageError(`unknown subcommand ${name}`);
  const { values, positionals } = parse(rest, { ...CONFIG_OPTION, json: { type: "boolean" }, ...sub.options }, true);
  if (values.help) return io.out(usage), EXIT_OK;
  const names = sub.positionals ?? [];
  if (positionals.length !== names.length) throw new UsageError(names.length ? `${name} takes ${names.map((n) => n.toUpperCase()).join(" ")}` : `${name} takes no arguments`);
  const args: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(values)) if (k !== "config" && k !== "json" && k !== "help") args[k.replaceAll("-", "_")] = v;
  names.forEach((n, i) => (args[n] = positionals[i]));
  const config = readConfig(values.config as string | undefined, io.env);
  const { result } = await runCommand(config, quietLogger(config), sub.command, args);
  sub.print(result, io, values.json === true);
  return EXIT_OK;
}

/** Columns padded to their widest cell. */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  ")).join("\n");
}
