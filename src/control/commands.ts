// Admin commands the CLI runs: the same handler runs inside the server (when
// one is running, reached over the control socket) or in the CLI process
// (when none is, with the database opened directly). Each domain keeps its
// handlers in its own module; they are gathered here.

import type { AlertBus } from "../alerts/bus.ts";
import type { Config } from "../config.ts";
import type { Db } from "../db/db.ts";
import type { DbInfo } from "../db/open.ts";
import type { Clock } from "../lib/clock.ts";
import type { Logger } from "../lib/logger.ts";
import { getStatus } from "../system/service.ts";
import { ALERT_COMMANDS } from "./alert-commands.ts";
import { DEVICE_COMMANDS } from "./device-commands.ts";
import { IDENTITY_COMMANDS } from "./identity-commands.ts";
import { ONCALL_COMMANDS } from "./oncall-commands.ts";
import { SIMULATE_COMMANDS } from "./simulate-commands.ts";

export interface CommandDeps {
  config: Config;
  db: Db;
  dbInfo: DbInfo;
  clock: Clock;
  log: Logger;
  /** Set when running inside the server. */
  startedAt?: Date;
  /** Inside the server: drop a changed device from this node's ingest cache at once. */
  afterDeviceChange?: (tenantId: string, deviceId?: string) => void;
  /** Inside the server: the alert bus, so actions from the CLI reach notifications as the API's do. */
  alertBus?: AlertBus;
}

export type CommandHandler = (deps: CommandDeps, args: Record<string, unknown>) => Promise<unknown>;

export const COMMANDS: Record<string, CommandHandler> = {
  ...IDENTITY_COMMANDS,
  ...SIMULATE_COMMANDS,
  ...DEVICE_COMMANDS,
  ...ALERT_COMMANDS,
  ...ONCALL_COMMANDS,
  status: async (deps) => ({ ...(await getStatus({ ...deps, now: deps.clock.now() })), server: deps.startedAt ? "running" : "not running" }),
};
