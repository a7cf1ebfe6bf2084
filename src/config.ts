// The one config table. Every key Pulse understands is declared here with its
// type, default, secret flag and environment name; nothing else reads
// process.env. Precedence: defaults < config.toml < PULSE_* env (< PULSE_*_FILE
// for secrets). Errors always name the key, the value and what is allowed.

import { readFileSync, existsSync } from "node:fs";

type Kind =
  | { type: "string"; pattern?: RegExp; allowed?: string }
  | { type: "int"; min: number; max: number }
  | { type: "bool" }
  | { type: "enum"; values: readonly string[] }
  | { type: "url"; protocols: readonly string[] };

interface KeySpec {
  kind: Kind;
  default: string | number | boolean;
  secret?: boolean;
  doc: string;
}

/** Every config key, by its dotted TOML path. Order is the order of config.example.toml. */
export const CONFIG_KEYS = {
  data_dir: { kind: { type: "string" }, default: "./data", doc: "Where the embedded database, generated keys and the control socket live." },
  public_url: { kind: { type: "url", protocols: ["http:", "https:"] }, default: "", doc: "The URL people and devices use to reach Pulse (issuer of tokens, links in notifications). Empty: http://localhost:<http.port>." },

  "log.level": { kind: { type: "enum", values: ["debug", "info", "warn", "error"] }, default: "info", doc: "Least severe level written." },
  "log.format": { kind: { type: "enum", values: ["json", "text"] }, default: "json", doc: "json for log shippers, text for a terminal." },

  "http.host": { kind: { type: "string" }, default: "0.0.0.0", doc: "Interface the web UI, API and HTTP ingest listen on." },
  "http.port": { kind: { type: "int", min: 0, max: 65535 }, default: 8080, doc: "Port of the web UI, API, HTTP ingest and MQTT over WebSocket (/mqtt). 0 picks a free port." },
  "http.trust_proxy": { kind: { type: "bool" }, default: false, doc: "Take the client address from X-Forwarded-For (only behind a proxy you run)." },
  "http.max_body_bytes": { kind: { type: "int", min: 1024, max: 512 * 1024 * 1024 }, default: 16 * 1024 * 1024, doc: "Largest request body accepted (CSV imports are the biggest)." },

  "mqtt.enabled": { kind: { type: "bool" }, default: true, doc: "Run the embedded MQTT broker." },
  "mqtt.host": { kind: { type: "string" }, default: "0.0.0.0", doc: "Interface the MQTT listeners bind to." },
  "mqtt.port": { kind: { type: "int", min: 0, max: 65535 }, default: 1883, doc: "MQTT over TCP. 0 picks a free port." },
  "mqtt.tls_port": { kind: { type: "int", min: 0, max: 65535 }, default: 8883, doc: "MQTT over TLS. 0 turns the TLS listener off." },
  "mqtt.tls_cert": { kind: { type: "string" }, default: "", doc: "PEM certificate for MQTT TLS. Empty: a self-signed one is generated into data_dir." },
  "mqtt.tls_key": { kind: { type: "string" }, default: "", doc: "Path of the PEM private key for MQTT TLS (keep the file readable only by Pulse)." },
  "mqtt.max_packet_bytes": { kind: { type: "int", min: 1024, max: 16 * 1024 * 1024 }, default: 65536, doc: "Largest MQTT packet accepted; bigger ones close the connection." },
  "mqtt.connect_timeout_seconds": { kind: { type: "int", min: 1, max: 300 }, default: 30, doc: "A client that has not sent CONNECT by then is dropped." },
  "mqtt.allow_envelope_auth": { kind: { type: "bool" }, default: true, doc: "Accept connections without credentials that put the provision token in each message (PROTOCOL.md)." },

  "mqtt.max_connections_per_tenant": { kind: { type: "int", min: 1, max: 10_000_000 }, default: 100_000, doc: "Most MQTT connections one tenant's devices may hold open." },

  "ingest.max_message_bytes": { kind: { type: "int", min: 256, max: 1024 * 1024 }, default: 8192, doc: "Largest device message accepted (PAYLOAD_TOO_LARGE above)." },
  "ingest.max_batch_messages": { kind: { type: "int", min: 1, max: 100_000 }, default: 5000, doc: "Most messages in one POST /ingest/v1/batch." },
  "ingest.max_batch_bytes": { kind: { type: "int", min: 1024, max: 256 * 1024 * 1024 }, default: 8 * 1024 * 1024, doc: "Largest batch body." },
  "ingest.queue_max": { kind: { type: "int", min: 100, max: 10_000_000 }, default: 50_000, doc: "Messages held in memory waiting to be written (about a second of a small box's maximum); when full, HTTP answers 503 and MQTT stops reading." },
  "ingest.batch_rows": { kind: { type: "int", min: 1, max: 100_000 }, default: 5000, doc: "A batch is written once this many messages wait…" },
  "ingest.flush_ms": { kind: { type: "int", min: 5, max: 10_000 }, default: 25, doc: "…or once the oldest has waited this long (one batch is written at a time: under load, what waited through a write goes out at once)." },
  "ingest.device_rate_per_second": { kind: { type: "int", min: 0, max: 1_000_000 }, default: 50, doc: "Messages a second one device may send on average (RATE_LIMITED above); 0 = unlimited." },
  "ingest.device_rate_burst": { kind: { type: "int", min: 1, max: 1_000_000 }, default: 200, doc: "Messages one device may send in a burst." },

  "devices.status_sweep_seconds": { kind: { type: "int", min: 1, max: 3600 }, default: 10, doc: "How often device connectivity (ONLINE/STALE/OFFLINE) is recomputed." },

  "notify.allow_private_networks": { kind: { type: "bool" }, default: false, doc: "Let notification channels call private, loopback and link-local addresses (on-prem receivers); off protects against SSRF." },
  "notify.timeout_seconds": { kind: { type: "int", min: 1, max: 120 }, default: 10, doc: "Longest a single notification delivery may take." },
  "notify.retry_hours": { kind: { type: "int", min: 1, max: 720 }, default: 24, doc: "How long a failing notification is retried before it becomes a dead letter." },
  "notify.circuit_failures": { kind: { type: "int", min: 1, max: 1000 }, default: 5, doc: "Failures in a row after which a channel is paused (1, 2, 4 … up to 30 minutes)." },
  "notify.snmp_enterprise_oid": {
    kind: { type: "string", pattern: /^1\.3\.6\.1\.4\.1\.\d+(\.\d+)+$/, allowed: "an OID under enterprises (1.3.6.1.4.1.<number>.<arc>…), e.g. 1.3.6.1.4.1.59999.1" },
    default: "1.3.6.1.4.1.59999.1",
    doc: "OID prefix of Pulse's SNMP traps: <prefix>.0.1 firing, .0.2 resolved, .0.3 acknowledged, .0.4 test; objects under <prefix>.1. Set it under your own private enterprise number; the MIB (GET /api/v1/notification-channels/snmp/mib) follows it.",
  },

  "database.url": { kind: { type: "url", protocols: ["postgres:", "postgresql:"] }, default: "", secret: true, doc: "Postgres 15+ (or TimescaleDB) URL. Empty: embedded PGlite in data_dir." },
  "database.pool_max": { kind: { type: "int", min: 1, max: 200 }, default: 10, doc: "Most connections Pulse opens to Postgres." },
  "database.statement_timeout_ms": { kind: { type: "int", min: 0, max: 3_600_000 }, default: 30_000, doc: "Longest a single statement may run (0 = no limit)." },
  "database.alert_thread": {
    kind: { type: "bool" },
    default: true,
    doc: "Postgres only: alert transactions run on a thread of their own with their own connections (up to 3), so that their round trips do not wait behind ingest on the main thread; off: on the main thread's pool.",
  },
  "database.timescale": { kind: { type: "enum", values: ["auto", "off"] }, default: "auto", doc: "auto: use TimescaleDB when the extension is available; off: always native partitions." },

  "telemetry.retention_days": { kind: { type: "int", min: 1, max: 3650 }, default: 90, doc: "Telemetry older than this is dropped (whole partitions or chunks)." },
  "telemetry.compress_after_days": { kind: { type: "int", min: 1, max: 3650 }, default: 7, doc: "TimescaleDB only: compress chunks older than this." },

  "retention.outbox_delivered_days": { kind: { type: "int", min: 0, max: 3650 }, default: 30, doc: "Delivered notifications and their delivery attempts are deleted this many days after delivery; 0 = kept forever." },
  "retention.outbox_dead_days": { kind: { type: "int", min: 0, max: 3650 }, default: 90, doc: "Dead letters and their delivery attempts are deleted this many days after their last attempt; 0 = kept forever." },
  "retention.notification_throttle_days": { kind: { type: "int", min: 7, max: 3650 }, default: 7, doc: "Throttle markers (last notification per channel and alert) are deleted after this many days; at least 7, the longest throttle window a route may have." },
  "retention.device_events_days": { kind: { type: "int", min: 0, max: 3650 }, default: 90, doc: "Device events (the device timeline) older than this are deleted; 0 = kept forever." },
  "retention.closed_alerts_days": { kind: { type: "int", min: 0, max: 3650 }, default: 365, doc: "Closed alerts and their timelines are deleted this many days after they closed; 0 = kept forever." },
  "retention.expired_codes_days": { kind: { type: "int", min: 1, max: 365 }, default: 7, doc: "Device activation codes and invites are deleted this many days after they expire (used or not)." },
  "retention.audit_days": { kind: { type: "int", min: 0, max: 36500 }, default: 400, doc: "Audit log entries older than this are deleted; 0 = kept forever." },

  "security.secret_key": { kind: { type: "string", pattern: /^[A-Za-z0-9+/=_-]{32,}$/, allowed: "at least 32 base64 characters (openssl rand -base64 32)" }, default: "", secret: true, doc: "Key that encrypts secrets at rest (signing keys, channel credentials). Empty: generated once into data_dir/secret.key." },

  "auth.session_hours": { kind: { type: "int", min: 1, max: 720 }, default: 12, doc: "A web session ends this many hours after sign-in." },
  "auth.session_idle_minutes": { kind: { type: "int", min: 5, max: 10080 }, default: 120, doc: "A web session ends after this long without a request." },
  "auth.access_token_minutes": { kind: { type: "int", min: 1, max: 1440 }, default: 15, doc: "Lifetime of access and ID tokens." },
  "auth.refresh_token_days": { kind: { type: "int", min: 1, max: 365 }, default: 30, doc: "Lifetime of refresh tokens (each use rotates them)." },
  "auth.signing_key_days": { kind: { type: "int", min: 1, max: 3650 }, default: 90, doc: "A token signing key is replaced after this many days (old keys stay published until their tokens expire)." },
  "auth.login_max_failures": { kind: { type: "int", min: 1, max: 1000 }, default: 5, doc: "Failed sign-ins per account within 15 minutes before it is throttled." },
  "auth.login_max_failures_per_ip": { kind: { type: "int", min: 1, max: 100000 }, default: 30, doc: "Failed sign-ins per client address within 15 minutes before it is throttled." },
  "auth.federation_allow_private_networks": { kind: { type: "bool" }, default: false, doc: "Let identity providers that tenant-admins add (issuer, token endpoint, keys) be on private, loopback and link-local addresses; off protects against SSRF. Platform providers may always use them." },

  "smtp.host": { kind: { type: "string" }, default: "", doc: "Platform SMTP server for invites, password resets and email notifications. Empty: no email." },
  "smtp.port": { kind: { type: "int", min: 1, max: 65535 }, default: 587, doc: "SMTP port (587 submission with STARTTLS, 465 implicit TLS, 25 relay)." },
  "smtp.security": { kind: { type: "enum", values: ["starttls", "tls", "none"] }, default: "starttls", doc: "starttls: upgrade after connecting (required); tls: implicit TLS; none: plain (local relays only)." },
  "smtp.username": { kind: { type: "string" }, default: "", doc: "SMTP user name; empty for no authentication." },
  "smtp.password": { kind: { type: "string" }, default: "", secret: true, doc: "SMTP password." },
  "smtp.from": { kind: { type: "string" }, default: "Pulse <pulse@localhost>", doc: "From address of mail Pulse sends." },

  "provisioning.admin_key": { kind: { type: "string", pattern: /^\S{24,}$/, allowed: "at least 24 characters without spaces (openssl rand -base64 32)" }, default: "", secret: true, doc: "Key factory tooling sends as X-Admin-Key to the provisioning API (PROTOCOL.md). Empty: the provisioning API is off." },
  "provisioning.listen": { kind: { type: "string", pattern: /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, allowed: "host:port, e.g. 127.0.0.1:8081" }, default: "", doc: "Serve the provisioning API only on this address (e.g. 127.0.0.1:8081), to keep it off public interfaces. Empty: on the HTTP port." },
  "provisioning.activation_code_hours": { kind: { type: "int", min: 1, max: 8760 }, default: 24, doc: "An activation code expires this many hours after it is issued (it works once either way)." },

  "bootstrap.admin_password": { kind: { type: "string" }, default: "", secret: true, doc: "Password of the first operator-admin 'admin', used once on first start. Empty: a random one is printed once." },
} as const satisfies Record<string, KeySpec>;

export type ConfigKey = keyof typeof CONFIG_KEYS;

type KindOf<K extends ConfigKey> = (typeof CONFIG_KEYS)[K]["kind"];
type ValueOf<K extends ConfigKey> =
  KindOf<K> extends { type: "int" }
    ? number
    : KindOf<K> extends { type: "bool" }
      ? boolean
      : KindOf<K> extends { type: "enum"; values: readonly (infer V)[] }
        ? V
        : string;

/** The effective configuration: a frozen map from dotted key to typed value. */
export type Config = { readonly [K in ConfigKey]: ValueOf<K> } & { readonly sources: Readonly<Record<ConfigKey, Source>> };
export type Source = "default" | "file" | "env" | "env_file" | "override";

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/** `[http] port` → `PULSE_HTTP_PORT`; `data_dir` → `PULSE_DATA_DIR`. */
export function envName(key: ConfigKey): string {
  return "PULSE_" + key.replace(".", "_").toUpperCase();
}

// Env variables with this prefix belong to the test harness, not to Pulse.
const RESERVED_ENV_PREFIXES = ["PULSE_TEST_"];

/** PULSE_HTTP_, PULSE_MQTT_, … and the top-level keys: names that can only mean a Pulse setting. */
const OUR_ENV_PREFIXES = [
  ...new Set(
    Object.keys(CONFIG_KEYS).map((k) => (k.includes(".") ? `PULSE_${k.split(".")[0]!.toUpperCase()}_` : `PULSE_${k.toUpperCase()}`)),
  ),
];

export interface LoadOptions {
  /** Path of config.toml; when absent, ./config.toml is read if it exists. */
  file?: string;
  env?: Record<string, string | undefined>;
  /** Values set by code (tests, CLI flags); they win over everything. */
  overrides?: Partial<Record<ConfigKey, string | number | boolean>>;
}

/** Build the effective config or throw one ConfigError naming the first bad key. */
export function loadConfig(opts: LoadOptions = {}): Config {
  const env = opts.env ?? process.env;
  const values: Record<string, unknown> = {};
  const sources: Record<string, Source> = {};
  for (const [key, spec] of Object.entries(CONFIG_KEYS)) {
    values[key] = spec.default;
    sources[key] = "default";
  }

  const file = opts.file ?? (existsSync("config.toml") ? "config.toml" : undefined);
  if (file) {
    for (const [key, raw] of Object.entries(readToml(file))) {
      values[key] = parseValue(key as ConfigKey, raw, `${file}: ${key}`);
      sources[key] = "file";
    }
  }

  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith("PULSE_") || raw === undefined) continue;
    if (RESERVED_ENV_PREFIXES.some((p) => name.startsWith(p))) continue;
    const fromFile = name.endsWith("_FILE");
    const key = keyForEnv(fromFile ? name.slice(0, -5) : name);
    if (!key) {
      // PulseAudio owns other PULSE_* names (PULSE_SERVER, PULSE_COOKIE…); only a
      // name inside one of our sections is a typo worth stopping for.
      if (!OUR_ENV_PREFIXES.some((p) => name.startsWith(p))) continue;
      throw new ConfigError(`${name}: unknown setting (see config.example.toml for every key)`);
    }
    const spec: KeySpec = CONFIG_KEYS[key];
    if (fromFile) {
      if (!spec.secret) throw new ConfigError(`${name}: only secrets have a _FILE variant; set ${envName(key)} instead`);
      let text: string;
      try {
        text = readFileSync(raw, "utf8").trim();
      } catch (err) {
        throw new ConfigError(`${name}: cannot read ${raw} (${(err as Error).message})`);
      }
      values[key] = parseValue(key, text, name);
      sources[key] = "env_file";
    } else if (sources[key] !== "env_file") {
      values[key] = parseValue(key, raw, name);
      sources[key] = "env";
    }
  }

  for (const [key, raw] of Object.entries(opts.overrides ?? {})) {
    if (!(key in CONFIG_KEYS)) throw new ConfigError(`${key}: unknown setting`);
    values[key] = parseValue(key as ConfigKey, raw, key);
    sources[key] = "override";
  }

  return Object.freeze({ ...values, sources: Object.freeze(sources) }) as unknown as Config;
}

function keyForEnv(name: string): ConfigKey | undefined {
  return (Object.keys(CONFIG_KEYS) as ConfigKey[]).find((k) => envName(k) === name);
}

/** Flatten `[section] key = v` into `section.key`; nested tables deeper than one level are unknown keys. */
function readToml(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigError(`config file ${file}: cannot read (${(err as Error).message})`);
  }
  let doc: Record<string, unknown>;
  try {
    doc = Bun.TOML.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError(`config file ${file}: not valid TOML (${(err as Error).message})`);
  }
  const flat: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(doc)) {
    if (v !== null && typeof v === "object" && !Array.isArray(v)) {
      for (const [k2, v2] of Object.entries(v as Record<string, unknown>)) flat[`${k}.${k2}`] = v2;
    } else flat[k] = v;
  }
  for (const key of Object.keys(flat)) {
    if (!(key in CONFIG_KEYS)) {
      throw new ConfigError(`${file}: ${key}: unknown setting${suggest(key)}`);
    }
  }
  return flat;
}

function suggest(key: string): string {
  const leaf = key.split(".").pop()!;
  const near = (Object.keys(CONFIG_KEYS) as string[]).find((k) => k.endsWith("." + leaf) || k === leaf);
  return near ? ` (did you mean ${near}?)` : "";
}

function parseValue(key: ConfigKey, raw: unknown, where: string): string | number | boolean {
  const spec: KeySpec = CONFIG_KEYS[key];
  const kind = spec.kind;
  const shown = spec.secret ? "(secret)" : JSON.stringify(raw);
  const bad = (allowed: string) => new ConfigError(`${where}: invalid value ${shown}; expected ${allowed}`);
  switch (kind.type) {
    case "int": {
      const n = typeof raw === "number" ? raw : typeof raw === "string" && /^-?\d+$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
      if (!Number.isInteger(n)) throw bad(`an integer from ${kind.min} to ${kind.max}`);
      if (n < kind.min || n > kind.max) throw bad(`an integer from ${kind.min} to ${kind.max}`);
      return n;
    }
    case "bool": {
      if (typeof raw === "boolean") return raw;
      if (typeof raw === "string" && /^(true|1|yes|on)$/i.test(raw.trim())) return true;
      if (typeof raw === "string" && /^(false|0|no|off)$/i.test(raw.trim())) return false;
      throw bad("true or false");
    }
    case "enum": {
      if (typeof raw === "string" && kind.values.includes(raw)) return raw;
      throw bad(`one of ${kind.values.join(", ")}`);
    }
    case "url": {
      if (typeof raw !== "string") throw bad(`a ${kind.protocols.join(" or ")} URL`);
      if (raw === "") return raw;
      let u: URL;
      try {
        u = new URL(raw);
      } catch {
        throw bad(`a ${kind.protocols.join(" or ")} URL`);
      }
      if (!kind.protocols.includes(u.protocol)) throw bad(`a ${kind.protocols.join(" or ")} URL`);
      return raw.replace(/\/+$/, "");
    }
    case "string": {
      if (typeof raw !== "string") throw bad("a string");
      if (raw !== "" && kind.pattern && !kind.pattern.test(raw)) throw bad(kind.allowed ?? String(kind.pattern));
      return raw;
    }
  }
}

/** Secrets masked: for `pulse config check` and start-up logs. */
export function describeConfig(config: Config): Array<{ key: ConfigKey; value: string; source: Source; env: string }> {
  return (Object.keys(CONFIG_KEYS) as ConfigKey[]).map((key) => {
    const spec: KeySpec = CONFIG_KEYS[key];
    const v = config[key];
    const value = spec.secret && v !== "" ? maskSecret(key, String(v)) : JSON.stringify(v);
    return { key, value, source: config.sources[key], env: envName(key) };
  });
}

function maskSecret(key: ConfigKey, v: string): string {
  // A database URL is useful to see without its password.
  if (key === "database.url") {
    try {
      const u = new URL(v);
      if (u.password) u.password = "****";
      // libpq also takes ?password=…; mask any credential-looking parameter.
      for (const name of [...u.searchParams.keys()]) if (/pass|secret|token|key/i.test(name)) u.searchParams.set(name, "****");
      return JSON.stringify(u.toString());
    } catch {
      /* fall through */
    }
  }
  return '"****"';
}

/** The URL people reach Pulse at, without a trailing slash. */
export function publicUrl(config: Config, boundHttpPort?: number): string {
  if (config.public_url) return config.public_url;
  return `http://localhost:${boundHttpPort ?? config["http.port"]}`;
}

/** config.example.toml, generated from the table so it documents every key. */
export function exampleToml(): string {
  const lines = [
    "# Pulse configuration. Every key, its default, and its environment variable.",
    "# Precedence: defaults < this file < PULSE_* environment (< PULSE_*_FILE for secrets).",
    "# Generated from src/config.ts by scripts/gen-config-example.ts; do not edit by hand.",
  ];
  let section = "";
  for (const [key, spec] of Object.entries(CONFIG_KEYS) as Array<[ConfigKey, KeySpec]>) {
    const [sec, leaf] = key.includes(".") ? key.split(".") as [string, string] : ["", key];
    if (sec !== section) {
      lines.push("", "", `[${sec}]`);
      section = sec;
    } else lines.push("");
    lines.push(`# ${spec.doc}`);
    lines.push(`# env: ${envName(key)}${spec.secret ? ` (or ${envName(key)}_FILE)` : ""}`);
    lines.push(`# ${leaf} = ${JSON.stringify(spec.default)}`);
  }
  return lines.join("\n") + "\n";
}
