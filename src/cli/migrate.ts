// pulse migrate: apply pending migrations and exit (also done by serve).
import { migrateOnly } from "../db/open.ts";
import { CONFIG_OPTION, EXIT_OK, cliLogger, guard, parse, readConfig, type Command } from "./command.ts";

export const migrate: Command = {
  name: "migrate",
  summary: "Apply pending database migrations",
  usage: `Usage: pulse migrate [--config PATH]

Applies the numbered migrations this Pulse carries to the configured database
(embedded or database.url), each in its own transaction, under a lock so that
several nodes can run it at once. Safe to run repeatedly. The server must not
be running on the embedded database.

Options:
  -c, --config PATH   config.toml to read
  -h, --help          show this help`,
  run: (argv, io) =>
    guard(io, migrate, async () => {
      const { values } = parse(argv, CONFIG_OPTION);
      if (values.help) return io.out(migrate.usage), EXIT_OK;
      const config = readConfig(values.config, io.env);
      const info = await migrateOnly({ config, log: cliLogger(config) });
      io.out(
        info.migrations.applied.length
          ? `applied ${info.migrations.applied.join(", ")}; database at migration ${info.migrations.current}`
          : `database is up to date at migration ${info.migrations.current}`,
      );
      return EXIT_OK;
    }),
};
