// Structured logs: one JSON object a line (or a readable line for terminals).
// Field names that look like secrets are masked here, so a careless
// `log.info("x", { password })` can never leak one.

export type Level = "debug" | "info" | "warn" | "error";
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type Fields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
  /** A logger whose lines all carry these fields (request id, component). */
  child(fields: Fields): Logger;
}

export interface LoggerOptions {
  level: Level;
  format: "json" | "text";
  /** Where lines go; stdout by default. Tests capture them. */
  write?: (line: string) => void;
}

const SECRET_FIELD = /pass(word)?|secret|token|api_?key|authorization|cookie|private|credential/i;

export function createLogger(opts: LoggerOptions, base: Fields = {}): Logger {
  const min = ORDER[opts.level];
  const write = opts.write ?? ((line: string) => process.stdout.write(line + "\n"));
  const emit = (level: Level, msg: string, fields?: Fields) => {
    if (ORDER[level] < min) return;
    const record = { ts: new Date().toISOString(), level, msg, ...redact(base), ...redact(fields ?? {}) };
    let line: string;
    try {
      line = opts.format === "json" ? JSON.stringify(record, errorReplacer) : textLine(record);
    } catch (err) {
      // A field JSON cannot hold (a cycle inside a class instance) must not turn a log call into a crash.
      const fallback = { ts: record.ts, level, msg, log_error: `fields not serializable: ${(err as Error).message}` };
      line = opts.format === "json" ? JSON.stringify(fallback) : textLine(fallback);
    }
    write(line);
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    child: (fields) => createLogger(opts, { ...base, ...fields }),
  };
}

/** A logger that drops everything, for unit tests of code that logs. */
export function silentLogger(): Logger {
  const l: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => l };
  return l;
}

// Nested objects are masked too ({ headers: { authorization } }), down to a
// depth that no log line needs, which also stops at cycles.
const MAX_DEPTH = 6;

function redact(fields: Fields, depth = 0): Fields {
  const out: Fields = {};
  for (const [k, v] of Object.entries(fields)) {
    out[k] = SECRET_FIELD.test(k) && v !== undefined && v !== null && v !== "" ? "****" : redactValue(v, depth + 1);
  }
  return out;
}

function redactValue(v: unknown, depth: number): unknown {
  if (v === null || typeof v !== "object") return v;
  if (depth >= MAX_DEPTH) return "[nested too deep]";
  if (Array.isArray(v)) return v.map((x) => redactValue(x, depth + 1));
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null ? redact(v as Fields, depth) : v;
}

function errorReplacer(_key: string, value: unknown): unknown {
  return serializeError(value, 0);
}

function serializeError(value: unknown, depth: number): unknown {
  if (value instanceof Error) {
    const out: Record<string, unknown> = { name: value.name, message: value.message };
    // A cause chain may loop (err.cause = err); a few levels say enough.
    if (value.cause !== undefined) out.cause = depth < MAX_DEPTH ? serializeError(value.cause, depth + 1) : "[cause chain too long]";
    return out;
  }
  if (typeof value === "bigint") return value.toString();
  return value;
}

function textLine(record: Record<string, unknown>): string {
  const { ts, level, msg, ...rest } = record;
  const extra = Object.entries(rest)
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v, errorReplacer)}`)
    .join(" ");
  return `${ts} ${String(level).toUpperCase().padEnd(5)} ${msg}${extra ? " " + extra : ""}`;
}
