// The CLI side of admin commands: ask the running server over its control
// socket, or, when none runs, open the database here and run the same handler.

import { existsSync } from "node:fs";
import type { Config } from "../config.ts";
import { openDatabase } from "../db/open.ts";
import { AppError, type ErrorCode } from "../lib/errors.ts";
import { systemClock } from "../lib/clock.ts";
import type { Logger } from "../lib/logger.ts";
import { COMMANDS } from "./commands.ts";
import { socketPath } from "./server.ts";

export interface CommandOutcome {
  result: unknown;
  via: "server" | "local";
}

export async function runCommand(config: Config, log: Logger, name: string, args: Record<string, unknown> = {}): Promise<CommandOutcome> {
  const handler = COMMANDS[name];
  if (!handler) throw new Error(`control: unknown command ${name}`);
  const path = socketPath(config.data_dir);
  if (existsSync(path)) {
    let res: Response | undefined;
    try {
      res = await fetch(`http://pulse/v1/${name}`, {
        unix: path,
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(args),
      } as RequestInit);
    } catch {
      res = undefined; // stale socket from a crashed server: fall through to local
    }
    if (res) {
      const body = (await res.json()) as { result?: unknown; error?: { code: ErrorCode; message: string; field?: string } };
      if (body.error) throw new AppError(body.error.code, body.error.message, { field: body.error.field });
      return { result: body.result, via: "server" };
    }
  }
  const { db, info } = await openDatabase({ config, log });
  try {
    // The same JSON shapes either way (dates as ISO strings), so printers need not care where it ran.
    const result = await handler({ config, db, dbInfo: info, clock: systemClock, log }, args);
    return { result: result === undefined ? null : JSON.parse(JSON.stringify(result)), via: "local" };
  } finally {
    await db.close();
  }
}
