// pulse <command>: dispatch to src/cli/<command>.ts, nothing else.
import { EXIT_OK, EXIT_USAGE, stdio, type Command } from "./cli/command.ts";
import { alerts } from "./cli/alerts.ts";
import { apikey } from "./cli/apikey.ts";
import { config } from "./cli/config.ts";
import { device } from "./cli/device.ts";
import { healthcheck } from "./cli/healthcheck.ts";
import { migrate } from "./cli/migrate.ts";
import { oncall } from "./cli/oncall.ts";
import { serve } from "./cli/serve.ts";
import { site } from "./cli/site.ts";
import { simulate } from "./cli/simulate.ts";
import { status } from "./cli/status.ts";
import { tenant } from "./cli/tenant.ts";
import { user } from "./cli/user.ts";
import { version } from "./cli/version.ts";

const COMMANDS: Command[] = [serve, migrate, config, status, tenant, user, apikey, site, device, alerts, oncall, simulate, version, healthcheck];

function help(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `Pulse: IoT fleet operations in one executable.

Usage: pulse <command> [options]

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join("\n")}
  ${"help".padEnd(width)}  Show help for a command

Run 'pulse <command> --help' for a command's options.
Exit codes: 0 ok, 1 failure, 2 usage error.`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h") return stdio.out(help()), name ? EXIT_OK : EXIT_USAGE;
  if (name === "help") {
    if (!rest[0]) return stdio.out(help()), EXIT_OK;
    const cmd = COMMANDS.find((c) => c.name === rest[0]);
    if (!cmd) return stdio.err(`pulse: unknown command '${rest[0]}'\n\n${help()}`), EXIT_USAGE;
    return stdio.out(cmd.usage), EXIT_OK;
  }
  if (name === "--version" || name === "-v") return version.run([], stdio);
  const cmd = COMMANDS.find((c) => c.name === name);
  if (!cmd) {
    stdio.err(`pulse: unknown command '${name}'\n\n${help()}`);
    return EXIT_USAGE;
  }
  return cmd.run(rest, stdio);
}

process.exit(await main(process.argv.slice(2)));
