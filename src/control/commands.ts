// Admin commands the CLI runs: the same handler runs inside the server (when
// one is running, reached over the control socket) or in the CLI process
// (when none is, with the database opened directly). Later issues add
// tenant, user, apikey and device commands here.

import type { Config } from "../config.ts";
import type { Db } from "../db/db.ts";
import type { DbInfo } from "../db/open.ts";
import type { Clock } from "../lib/clock.ts";
import type { Logger } from "../lib/logger.ts";
import { getStatus } from "../system/service.ts";

export interface CommandDeps {
  config: Config;
  db: Db;
  dbInfo: DbInfo;
  clock: Clock;
  log: Logger;
  /** Set when running inside the server. */
  startedAt?: Date;
}

export type CommandHandler = (deps: CommandDeps, args: Record<string, unknown>) => Promise<unknown>;

export const COMMANDS: Record<string, CommandHandler> = {
  status: async (deps) => ({ ...(await getStatus({ ...deps, now: deps.clock.now() })), server: deps.startedAt ? "running" : "not running" }),
};
