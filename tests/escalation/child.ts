// A whole Pulse as `pulse serve` runs it (config from PULSE_* variables,
// started, leader, scheduler and outbox worker running), on a clock the test
// sets through a file: each reading of the time reads the file. The crash
// suite kills this process with SIGKILL between escalation levels.
import { readFileSync } from "node:fs";
import { createApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { createLogger } from "../../src/lib/logger.ts";

const file = process.env.TEST_CLOCK_FILE;
if (!file) throw new Error("TEST_CLOCK_FILE is required");
const clock = { now: () => new Date(readFileSync(file, "utf8").trim()) };
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith("PULSE_"))) as Record<string, string>;
const config = loadConfig({ env, file: "/dev/null" });
const app = await createApp({ config, log: createLogger({ level: "warn", format: "json" }), clock, banner: () => {} });
await app.start();
process.on("SIGTERM", () => void app.stop().then(() => process.exit(0)));
