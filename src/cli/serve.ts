// pulse serve: run the server until SIGTERM or SIGINT, then shut down in
// order and exit 0 within 10 seconds (a second signal exits at once).

import { createApp } from "../app.ts";
import { CONFIG_OPTION, EXIT_FAILURE, EXIT_OK, cliLogger, guard, parse, readConfig, type Command } from "./command.ts";

const SHUTDOWN_DEADLINE_MS = 10_000;

export const serve: Command = {
  name: "serve",
  summary: "Run Pulse: web UI, API, MQTT broker, ingest and workers",
  usage: `Usage: pulse serve [--config PATH]

Starts Pulse on its configured ports (defaults: HTTP 8080, MQTT 1883) with the
embedded database in data_dir, or Postgres when database.url is set.
Migrations run first. Stops cleanly on SIGTERM or SIGINT.

Options:
  -c, --config PATH   config.toml to read (default: ./config.toml if present)
  -h, --help          show this help`,
  run: (argv, io) =>
    guard(io, serve, async () => {
      const { values } = parse(argv, CONFIG_OPTION);
      if (values.help) return io.out(serve.usage), EXIT_OK;
      const config = readConfig(values.config, io.env);
      const log = cliLogger(config);
      // Signals are handled from the first moment: one during start-up stops
      // Pulse as soon as it is up, instead of killing it halfway through a migration.
      let stopRequested: string | undefined;
      let onStop: ((signal: string) => void) | undefined;
      const onSignal = (signal: string) => {
        if (stopRequested) {
          log.warn("second signal: exiting now", { signal });
          process.exit(EXIT_FAILURE);
        }
        stopRequested = signal;
        onStop?.(signal);
      };
      process.on("SIGTERM", () => onSignal("SIGTERM"));
      process.on("SIGINT", () => onSignal("SIGINT"));

      const app = await createApp({ config, log });
      try {
        await app.start();
      } catch (err) {
        await app.stop().catch(() => {});
        throw err;
      }
      return await new Promise<number>((resolve) => {
        onStop = (signal) => {
          log.info("shutting down", { signal });
          const deadline = setTimeout(() => {
            log.error("shutdown took longer than 10 s; exiting");
            process.exit(EXIT_FAILURE);
          }, SHUTDOWN_DEADLINE_MS);
          deadline.unref();
          app.stop().then(
            () => resolve(EXIT_OK),
            (err) => {
              log.error("shutdown failed", { error: err });
              resolve(EXIT_FAILURE);
            },
          );
        };
        if (stopRequested) onStop(stopRequested);
      });
    }),
};
