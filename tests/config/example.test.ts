// config.example.toml is generated from the config table
// (bun scripts/gen-config-example.ts), so it documents every key and cannot
// drift from the code.
import { describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CONFIG_KEYS, envName, exampleToml, loadConfig, type ConfigKey } from "../../src/config.ts";
import { tempDir } from "../helpers/databases.ts";

const committed = readFileSync(join(import.meta.dir, "..", "..", "config.example.toml"), "utf8");

describe("config.example.toml", () => {
  test("is exactly what the config table generates (run: bun scripts/gen-config-example.ts)", () => {
    expect(committed).toBe(exampleToml());
  });

  test("documents every key with its environment variable and default", () => {
    for (const key of Object.keys(CONFIG_KEYS) as ConfigKey[]) {
      const leaf = key.split(".").pop()!;
      expect(committed).toContain(`# env: ${envName(key)}`);
      expect(committed).toContain(`# ${leaf} = ${JSON.stringify(CONFIG_KEYS[key].default)}`);
      if (key.includes(".")) expect(committed).toContain(`[${key.split(".")[0]}]`);
    }
  });

  test("names the _FILE variant for secrets and only for secrets", () => {
    for (const key of Object.keys(CONFIG_KEYS) as ConfigKey[]) {
      const secret = "secret" in CONFIG_KEYS[key] && CONFIG_KEYS[key].secret;
      expect(committed.includes(`${envName(key)}_FILE`)).toBe(Boolean(secret));
    }
  });

  test("uncommented, it is a valid config.toml that sets every key to its default", () => {
    const uncommented = committed.replace(/^# (\w+ = .*)$/gm, "$1");
    const file = join(tempDir(), "config.toml");
    writeFileSync(file, uncommented);
    const config = loadConfig({ file, env: {} });
    for (const key of Object.keys(CONFIG_KEYS) as ConfigKey[]) {
      expect(config.sources[key]).toBe("file");
      expect(config[key]).toBe(CONFIG_KEYS[key].default as never);
    }
  });
});
