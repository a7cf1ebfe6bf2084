// pulse status: version, uptime, database kind and counts. Asks the running
// server over its control socket, or opens the database when none runs.
import { runCommand } from "../control/client.ts";
import type { Status } from "../system/service.ts";
import { CONFIG_OPTION, EXIT_OK, guard, parse, quietLogger, readConfig, type Command } from "./command.ts";
import { humanDuration } from "../lib/duration.ts";

export const status: Command = {
  name: "status",
  summary: "Show version, uptime, database and counts",
  usage: `Usage: pulse status [--config PATH] [--json]

Works whether or not the server is running: it asks the server over the
control socket in data_dir, or opens the database itself.

Options:
  -c, --config PATH   config.toml to read
      --json          print JSON
  -h, --help          show this help`,
  run: (argv, io) =>
    guard(io, status, async () => {
      const { values } = parse(argv, { ...CONFIG_OPTION, json: { type: "boolean" } });
      if (values.help) return io.out(status.usage), EXIT_OK;
      const config = readConfig(values.config, io.env);
      const { result } = await runCommand(config, quietLogger(config), "status");
      const s = result as Status & { server: string };
      if (values.json) return io.out(JSON.stringify(s, null, 2)), EXIT_OK;
      io.out(
        [
          `version   ${s.version} (${s.commit})`,
          `server    ${s.server}${s.uptimeSeconds !== null ? `, up ${humanDuration(s.uptimeSeconds)}` : ""}`,
          `database  ${s.database.kind} ${s.database.serverVersion}, migration ${s.database.migration}, telemetry in ${s.database.telemetry}`,
          `tenants   ${s.counts.tenants}`,
          `users     ${s.counts.users}`,
        ].join("\n"),
      );
      return EXIT_OK;
    }),
};
