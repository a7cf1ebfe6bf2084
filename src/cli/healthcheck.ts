// pulse healthcheck: exit 0 when the local server answers /healthz (for
// container HEALTHCHECKs, where the image carries no curl).
import { CONFIG_OPTION, EXIT_FAILURE, EXIT_OK, guard, parse, readConfig, type Command } from "./command.ts";

export const healthcheck: Command = {
  name: "healthcheck",
  summary: "Exit 0 if the local server is healthy (for containers)",
  usage: `Usage: pulse healthcheck [--config PATH] [--ready]

Requests http://127.0.0.1:<http.port>/healthz (or /readyz with --ready).`,
  run: (argv, io) =>
    guard(io, healthcheck, async () => {
      const { values } = parse(argv, { ...CONFIG_OPTION, ready: { type: "boolean" } });
      if (values.help) return io.out(healthcheck.usage), EXIT_OK;
      const config = readConfig(values.config, io.env);
      const url = `http://127.0.0.1:${config["http.port"]}/${values.ready ? "readyz" : "healthz"}`;
      const res = await fetch(url, { signal: AbortSignal.timeout(3000) }).catch(() => undefined);
      if (res?.ok) return EXIT_OK;
      io.err(`pulse healthcheck: ${url} ${res ? `answered ${res.status}` : "did not answer"}`);
      return EXIT_FAILURE;
    }),
};
