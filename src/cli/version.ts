// pulse version
import { COMMIT, VERSION } from "../lib/version.ts";
import { EXIT_OK, type Command } from "./command.ts";

export const version: Command = {
  name: "version",
  summary: "Print the version",
  usage: "Usage: pulse version",
  run: async (_argv, io) => {
    io.out(`pulse ${VERSION} (${COMMIT}) bun ${Bun.version}`);
    return EXIT_OK;
  },
};
