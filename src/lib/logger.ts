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
    write(opts.format === "json" ? JSON.stringify(record, errorReplacer) : textLine(record));
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

function redact(fields: Fields): Fields {
  const out: Fields = {};
  for (const [k, v] of Object.entries(fields)) {
    out[k] = SECRET_FIELD.test(k) && v !== undefined && v !== null && v !== "" ? "****" : v;
  }
  return out;
}

function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    const out: Record<string, unknown> = { name: value.name, message: value.message };
    if (value.cause !== undefined) out.cause = errorReplacer("", value.cause);
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
