// pulse version
import { COMMIT, VERSION } from "../lib/version.ts";
import { EXIT_OK, guard, parse, type Command } from "./command.ts";

export const version: Command = {
  name: "version",
  summary: "Print the version",
  usage: `Usage: pulse version

Prints the version, the commit it was built from and the Bun runtime.

Options:
  -h, --help          show this help`,
  run: (argv, io) =>
    guard(io, version, async () => {
      const { values } = parse(argv, { help: { type: "boolean", short: "h" } });
      if (values.help) return io.out(version.usage), EXIT_OK;
      io.out(`pulse ${VERSION} (${COMMIT}) bun ${Bun.version}`);
      return EXIT_OK;
    }),
};
