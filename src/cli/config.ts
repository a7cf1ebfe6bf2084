// pulse config check: validate config and print the effective values with
// where each came from; secrets masked.
import { describeConfig } from "../config.ts";
import { CONFIG_OPTION, EXIT_OK, UsageError, guard, parse, readConfig, type Command } from "./command.ts";

export const config: Command = {
  name: "config",
  summary: "Check the configuration and print effective values (secrets masked)",
  usage: `Usage: pulse config check [--config PATH] [--json]

Loads defaults, config.toml and PULSE_* environment variables, validates every
value, and prints the result with the source of each value. Exits 1 naming the
first bad key.

Options:
  -c, --config PATH   config.toml to read
      --json          print JSON
  -h, --help          show this help`,
  run: (argv, io) =>
    guard(io, config, async () => {
      const { values, positionals } = parse(argv, { ...CONFIG_OPTION, json: { type: "boolean" } }, true);
      if (values.help) return io.out(config.usage), EXIT_OK;
      if (positionals[0] !== "check" || positionals.length > 1) throw new UsageError(positionals[0] ? `unknown subcommand ${positionals[0]}` : "missing subcommand");
      const rows = describeConfig(readConfig(values.config, io.env));
      if (values.json) {
        io.out(JSON.stringify(Object.fromEntries(rows.map((r) => [r.key, { value: JSON.parse(r.value), source: r.source }])), null, 2));
      } else {
        const width = Math.max(...rows.map((r) => r.key.length));
        io.out("config ok\n" + rows.map((r) => `${r.key.padEnd(width)}  ${r.value}${r.source === "default" ? "" : `  (${r.source})`}`).join("\n"));
      }
      return EXIT_OK;
    }),
};
