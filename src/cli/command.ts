// What every CLI command shares: its shape, argument parsing with
// node:util parseArgs, usage errors (exit 2), and loading config with one
// clear line on error (exit 1).

import { parseArgs, type ParseArgsConfig } from "node:util";
import { ConfigError, loadConfig, type Config } from "../config.ts";
import { AppError } from "../lib/errors.ts";
import { createLogger, type Logger } from "../lib/logger.ts";

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export interface Command {
  name: string;
  summary: string;
  usage: string;
  run(argv: string[], io: Io): Promise<number>;
}

export interface Io {
  out(s: string): void;
  err(s: string): void;
  env: Record<string, string | undefined>;
}

export const stdio: Io = {
  out: (s) => process.stdout.write(s.endsWith("\n") ? s : s + "\n"),
  err: (s) => process.stderr.write(s.endsWith("\n") ? s : s + "\n"),
  env: process.env,
};

export class UsageError extends Error {}

export const CONFIG_OPTION = { config: { type: "string", short: "c" }, help: { type: "boolean", short: "h" } } as const;

/** parseArgs that throws UsageError with the parser's own message. */
export function parse<T extends ParseArgsConfig["options"]>(argv: string[], options: T, allowPositionals = false) {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

export function readConfig(path: string | undefined, env: Io["env"]): Config {
  return loadConfig({ file: path, env });
}

export function cliLogger(config: Config): Logger {
  return createLogger({ level: config["log.level"], format: config["log.format"] });
}

/** A logger for commands that only print results: warnings and errors to stderr. */
export function quietLogger(config: Config): Logger {
  return createLogger({ level: "warn", format: config["log.format"], write: (l) => process.stderr.write(l + "\n") });
}

/** Run a command body, turning known errors into one line and an exit code. */
export async function guard(io: Io, command: Command, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`pulse ${command.name}: ${err.message}\n\n${command.usage}`);
      return EXIT_USAGE;
    }
    if (err instanceof ConfigError) {
      io.err(`pulse: config: ${err.message}`);
      return EXIT_FAILURE;
    }
    if (err instanceof AppError) {
      io.err(`pulse ${command.name}: ${err.message}`);
      return EXIT_FAILURE;
    }
    io.err(`pulse ${command.name}: ${describe(err)}`);
    return EXIT_FAILURE;
  }
}

/** An error and its causes on one line: "db: cannot connect: ECONNREFUSED". */
export function describe(err: unknown): string {
  const parts: string[] = [];
  let e: unknown = err;
  for (let i = 0; e && i < 4; i++) {
    const msg = e instanceof Error ? e.message : String(e);
    if (!parts.some((p) => p.includes(msg))) parts.push(msg);
    e = e instanceof Error ? e.cause : undefined;
  }
  return parts.join(": ");
}
