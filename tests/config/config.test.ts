// How Pulse reads its configuration, told as the story of one operator's box:
// it starts on defaults, gets a config.toml, then environment variables from
// the service manager, and secrets from files. Every mistake is refused with
// one line that names the key, the value and what is allowed, and never
// repeats a secret.
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { CONFIG_KEYS, ConfigError, describeConfig, envName, loadConfig, type ConfigKey } from "../../src/config.ts";
import { tempDir } from "../helpers/databases.ts";

const dir = tempDir();
let files = 0;

/** A config.toml with this text, in a temp dir. */
function toml(text: string): string {
  const path = join(dir, `config-${++files}.toml`);
  writeFileSync(path, text);
  return path;
}

/** A file holding one secret, as Docker or systemd credentials provide it. */
function secretFile(text: string): string {
  const path = join(dir, `secret-${++files}`);
  writeFileSync(path, text);
  return path;
}

const EMPTY = toml("");

/** The ConfigError that loading throws, or a failure when it does not throw one. */
function configError(opts: Parameters<typeof loadConfig>[0]): ConfigError {
  try {
    loadConfig(opts);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error("expected a ConfigError, but the config loaded");
}

const described = (config: ReturnType<typeof loadConfig>, key: ConfigKey) => describeConfig(config).find((r) => r.key === key)!;

describe("a fresh box runs on defaults", () => {
  test("every key has its default and says so", () => {
    const config = loadConfig({ file: EMPTY, env: {} });
    expect(config.data_dir).toBe("./data");
    expect(config["http.port"]).toBe(8080);
    expect(config["mqtt.port"]).toBe(1883);
    expect(config["mqtt.tls_port"]).toBe(8883);
    expect(config["database.url"]).toBe("");
    expect(config["log.level"]).toBe("info");
    expect(config["mqtt.enabled"]).toBe(true);
    for (const key of Object.keys(CONFIG_KEYS) as ConfigKey[]) {
      expect(config[key]).toBe(CONFIG_KEYS[key].default as never);
      expect(config.sources[key]).toBe("default");
    }
  });

  test("the config is frozen: nothing can change it after boot", () => {
    const config = loadConfig({ file: EMPTY, env: {} });
    expect(Object.isFrozen(config)).toBe(true);
    expect(() => {
      (config as unknown as Record<string, unknown>)["http.port"] = 1;
    }).toThrow();
  });

  test("environment names follow the key: [http] port is PULSE_HTTP_PORT", () => {
    expect(envName("http.port")).toBe("PULSE_HTTP_PORT");
    expect(envName("mqtt.tls_port")).toBe("PULSE_MQTT_TLS_PORT");
    expect(envName("data_dir")).toBe("PULSE_DATA_DIR");
    expect(envName("database.url")).toBe("PULSE_DATABASE_URL");
  });
});

describe("config.toml overrides the defaults, the environment overrides config.toml", () => {
  const file = toml(`
data_dir = "/srv/pulse"

[http]
port = 9000
trust_proxy = true

[mqtt]
tls_port = 9883

[database]
url = "postgres://pulse:from-toml@db.internal:5432/pulse"

[log]
level = "debug"
`);

  test("values from config.toml replace the defaults", () => {
    const config = loadConfig({ file, env: {} });
    expect(config.data_dir).toBe("/srv/pulse");
    expect(config["http.port"]).toBe(9000);
    expect(config["http.trust_proxy"]).toBe(true);
    expect(config["mqtt.tls_port"]).toBe(9883);
    expect(config["database.url"]).toBe("postgres://pulse:from-toml@db.internal:5432/pulse");
    expect(config["log.level"]).toBe("debug");
    expect(config.sources["http.port"]).toBe("file");
    expect(config["mqtt.port"]).toBe(1883);
    expect(config.sources["mqtt.port"]).toBe("default");
  });

  test("PULSE_* variables replace values from config.toml", () => {
    const config = loadConfig({
      file,
      env: {
        PULSE_HTTP_PORT: "9100",
        PULSE_MQTT_TLS_PORT: "0",
        PULSE_DATA_DIR: "/var/lib/pulse",
        PULSE_DATABASE_URL: "postgres://pulse:from-env@db.prod:5432/pulse",
        PULSE_HTTP_TRUST_PROXY: "off",
      },
    });
    expect(config["http.port"]).toBe(9100);
    expect(config["mqtt.tls_port"]).toBe(0);
    expect(config.data_dir).toBe("/var/lib/pulse");
    expect(config["database.url"]).toBe("postgres://pulse:from-env@db.prod:5432/pulse");
    expect(config["http.trust_proxy"]).toBe(false);
    expect(config.sources["http.port"]).toBe("env");
    // What the environment did not mention still comes from the file.
    expect(config["log.level"]).toBe("debug");
    expect(config.sources["log.level"]).toBe("file");
  });

  test("variables that are not Pulse's, and the test harness's PULSE_TEST_*, are ignored", () => {
    const config = loadConfig({
      file: EMPTY,
      // PulseAudio's PULSE_SERVER and friends share the prefix on desktops and WSL.
      env: { HOME: "/root", PATH: "/usr/bin", PULSE_TEST_DATABASE_URL: "postgres://x@y/z", PULSE_TEST_DB: "pglite", PULSE_TEST_ANYTHING: "?", PULSE_SERVER: "unix:/mnt/wslg/PulseServer", PULSE_COOKIE: "/tmp/cookie" },
    });
    expect(config["database.url"]).toBe("");
    expect(Object.values(config.sources).every((s) => s === "default")).toBe(true);
  });
});

describe("secrets can come from files (PULSE_*_FILE)", () => {
  test("the _FILE variant reads the secret from the file, without its trailing newline", () => {
    const path = secretFile("postgres://pulse:from-file@db.prod:5432/pulse\n");
    const config = loadConfig({ file: EMPTY, env: { PULSE_DATABASE_URL_FILE: path } });
    expect(config["database.url"]).toBe("postgres://pulse:from-file@db.prod:5432/pulse");
    expect(config.sources["database.url"]).toBe("env_file");
  });

  test("the file wins over the plain variable, whichever comes first", () => {
    const path = secretFile("from-the-file-0123456789abcdefghijklmnop");
    for (const env of [
      { PULSE_SECURITY_SECRET_KEY: "from-the-env-0123456789abcdefghijklmnop", PULSE_SECURITY_SECRET_KEY_FILE: path },
      { PULSE_SECURITY_SECRET_KEY_FILE: path, PULSE_SECURITY_SECRET_KEY: "from-the-env-0123456789abcdefghijklmnop" },
    ]) {
      expect(loadConfig({ file: EMPTY, env })["security.secret_key"]).toBe("from-the-file-0123456789abcdefghijklmnop");
    }
  });

  test("a _FILE variant for a setting that is not secret is refused", () => {
    const err = configError({ file: EMPTY, env: { PULSE_HTTP_PORT_FILE: secretFile("9000") } });
    expect(err.message).toBe("PULSE_HTTP_PORT_FILE: only secrets have a _FILE variant; set PULSE_HTTP_PORT instead");
  });

  test("a secret file that cannot be read names the variable and the path", () => {
    const err = configError({ file: EMPTY, env: { PULSE_BOOTSTRAP_ADMIN_PASSWORD_FILE: "/nonexistent/admin-password" } });
    expect(err.message).toStartWith("PULSE_BOOTSTRAP_ADMIN_PASSWORD_FILE: cannot read /nonexistent/admin-password");
    expect(err.message).not.toContain("\n");
  });
});

describe("mistakes are refused with one line naming the key, the value and what is allowed", () => {
  const cases: Array<[string, Parameters<typeof loadConfig>[0], string]> = [
    ["an unknown key in config.toml", { file: toml("[http]\nprot = 8080\n"), env: {} }, "http.prot: unknown setting"],
    ["an unknown PULSE_ variable", { file: EMPTY, env: { PULSE_HTTP_PROT: "8080" } }, "PULSE_HTTP_PROT: unknown setting"],
    ["a wrong type in config.toml", { file: toml('[http]\nport = "eighty"\n'), env: {} }, 'http.port: invalid value "eighty"; expected an integer from 0 to 65535'],
    ["a wrong type in the environment", { file: EMPTY, env: { PULSE_HTTP_TRUST_PROXY: "maybe" } }, 'PULSE_HTTP_TRUST_PROXY: invalid value "maybe"; expected true or false'],
    ["an out-of-range value", { file: EMPTY, env: { PULSE_HTTP_PORT: "99999" } }, 'PULSE_HTTP_PORT: invalid value "99999"; expected an integer from 0 to 65535'],
    ["an out-of-range value in config.toml", { file: toml("[database]\npool_max = 0\n"), env: {} }, "database.pool_max: invalid value 0; expected an integer from 1 to 200"],
    ["a bad enum value", { file: EMPTY, env: { PULSE_LOG_LEVEL: "loud" } }, 'PULSE_LOG_LEVEL: invalid value "loud"; expected one of debug, info, warn, error'],
    ["a URL of the wrong kind", { file: EMPTY, env: { PULSE_PUBLIC_URL: "ftp://pulse.example" } }, 'PULSE_PUBLIC_URL: invalid value "ftp://pulse.example"; expected a http: or https: URL'],
  ];
  for (const [what, opts, expected] of cases) {
    test(`${what}`, () => {
      const err = configError(opts);
      expect(err.message).toContain(expected);
      expect(err.message).not.toContain("\n");
    });
  }

  test("a key in the wrong section of config.toml gets a suggestion", () => {
    expect(configError({ file: toml("[web]\nport = 8080\n"), env: {} }).message).toContain("web.port: unknown setting (did you mean http.port?)");
  });

  test("config.toml that is not TOML says so and names the file", () => {
    const file = toml("[http\nport = 1\n");
    const err = configError({ file, env: {} });
    expect(err.message).toStartWith(`config file ${file}: not valid TOML`);
    expect(err.message).not.toContain("\n");
  });

  test("a config file that does not exist names the file", () => {
    expect(configError({ file: join(dir, "missing.toml"), env: {} }).message).toStartWith(`config file ${join(dir, "missing.toml")}: cannot read`);
  });
});

describe("secrets never appear in error text", () => {
  const password = "Sup3r-S3cret-Passw0rd";

  test("a bad database.url names the key but not the URL", () => {
    for (const [opts, key] of [
      [{ file: EMPTY, env: { PULSE_DATABASE_URL: `mysql://pulse:${password}@db:3306/pulse` } }, "PULSE_DATABASE_URL"],
      [{ file: toml(`[database]\nurl = "mysql://pulse:${password}@db:3306/pulse"\n`), env: {} }, "database.url"],
      [{ file: EMPTY, env: { PULSE_DATABASE_URL_FILE: secretFile(`not a url ${password}`) } }, "PULSE_DATABASE_URL_FILE"],
    ] as const) {
      const err = configError(opts);
      expect(err.message).toContain(`${key}: invalid value (secret); expected a postgres: or postgresql: URL`);
      expect(err.message).not.toContain(password);
    }
  });

  test("a too-short secret key and a non-string admin password are refused without echoing them", () => {
    const short = configError({ file: EMPTY, env: { PULSE_SECURITY_SECRET_KEY: password } });
    expect(short.message).toBe("PULSE_SECURITY_SECRET_KEY: invalid value (secret); expected at least 32 base64 characters (openssl rand -base64 32)");
    const numeric = configError({ file: toml("[bootstrap]\nadmin_password = 31415926\n"), env: {} });
    expect(numeric.message).toContain("bootstrap.admin_password: invalid value (secret); expected a string");
    expect(numeric.message).not.toContain("31415926");
  });
});

describe("describeConfig prints the effective config with secrets masked", () => {
  const config = loadConfig({
    file: EMPTY,
    env: {
      PULSE_DATABASE_URL: "postgres://pulse:db-Passw0rd@db.internal:5432/pulse?sslmode=require&password=other-Passw0rd",
      PULSE_SECURITY_SECRET_KEY: "k3y-k3y-k3y-k3y-k3y-k3y-k3y-k3y-k3y-k3y",
      PULSE_HTTP_PORT: "9000",
    },
  });

  test("database.url keeps the user, host and database, and masks the password", () => {
    const row = described(config, "database.url");
    expect(JSON.parse(row.value)).toBe("postgres://pulse:****@db.internal:5432/pulse?sslmode=require&password=****");
    expect(row).toMatchObject({ source: "env", env: "PULSE_DATABASE_URL" });
  });

  test("other secrets are only stars", () => {
    expect(described(config, "security.secret_key").value).toBe('"****"');
  });

  test("no secret value appears anywhere in the description", () => {
    const text = JSON.stringify(describeConfig(config));
    for (const secret of ["db-Passw0rd", "other-Passw0rd", "k3y-k3y"]) expect(text).not.toContain(secret);
  });

  test("unset secrets show as empty, plain values as themselves, each with its source", () => {
    expect(described(config, "bootstrap.admin_password")).toMatchObject({ value: '""', source: "default" });
    expect(described(config, "http.port")).toEqual({ key: "http.port", value: "9000", source: "env", env: "PULSE_HTTP_PORT" });
    expect(describeConfig(config).map((r) => r.key)).toEqual(Object.keys(CONFIG_KEYS) as ConfigKey[]);
  });
});
