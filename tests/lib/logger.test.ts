// Logs are one JSON object a line (or a readable line), never carry a secret
// even when one is passed by mistake, and show an error's whole cause chain.
import { describe, expect, test } from "bun:test";
import { createLogger, type LoggerOptions } from "../../src/lib/logger.ts";

function capture(opts: Partial<LoggerOptions> = {}) {
  const lines: string[] = [];
  const log = createLogger({ level: "debug", format: "json", write: (l) => lines.push(l), ...opts });
  const records = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  return { log, lines, records };
}

describe("the logger", () => {
  test("writes one JSON object a line with time, level, message and fields", () => {
    const { log, lines, records } = capture();
    log.info("device registered", { tenant: "acme", device: "pump-1", count: 2 });
    expect(lines).toHaveLength(1);
    expect(records()[0]).toEqual({ ts: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), level: "info", msg: "device registered", tenant: "acme", device: "pump-1", count: 2 });
  });

  test("drops lines below its level", () => {
    const { log, records } = capture({ level: "warn" });
    log.debug("noise");
    log.info("more noise");
    log.warn("disk almost full");
    log.error("disk full");
    expect(records().map((r) => r.level)).toEqual(["warn", "error"]);
  });

  test("masks fields that look like secrets, at any depth", () => {
    const { log, lines, records } = capture();
    log.info("config", {
      password: "hunter2",
      admin_password: "correct horse",
      token: "tok_live_123",
      refresh_token: "rt_456",
      client_secret: "cs_789",
      api_key: "pulse_ab_cd",
      apiKey: "pulse_ef_gh",
      Authorization: "Bearer eyJhbGciOi",
      cookie: "pulse_session=abc",
      private_jwk: '{"d":"..."}',
      request: { headers: { authorization: "Basic YWxpY2U6c2VjcmV0", accept: "text/html" } },
      channels: [{ type: "slack", webhook_token: "xoxb-1" }],
      user: "alice",
      empty_password: "",
    });
    const record = records()[0]!;
    for (const key of ["password", "admin_password", "token", "refresh_token", "client_secret", "api_key", "apiKey", "Authorization", "cookie", "private_jwk"]) {
      expect(record[key]).toBe("****");
    }
    expect(record.request).toEqual({ headers: { authorization: "****", accept: "text/html" } });
    expect(record.channels).toEqual([{ type: "slack", webhook_token: "****" }]);
    expect(record.user).toBe("alice");
    expect(record.empty_password).toBe(""); // nothing to hide, and "was it set?" stays answerable
    for (const secret of ["hunter2", "correct horse", "tok_live_123", "rt_456", "cs_789", "pulse_ab_cd", "eyJhbGciOi", "YWxpY2U6c2VjcmV0", "xoxb-1", "abc"]) {
      expect(lines[0]).not.toContain(secret);
    }
  });

  test("child loggers add their fields to every line, masked as well", () => {
    const { log, records } = capture();
    const child = log.child({ request_id: "req-1", session_token: "s3cr3t" });
    child.info("http", { status: 200 });
    expect(records()[0]).toMatchObject({ request_id: "req-1", session_token: "****", status: 200 });
  });

  test("serializes errors with their whole cause chain", () => {
    const { log, records } = capture();
    const cause = new Error("connect ECONNREFUSED 127.0.0.1:5432");
    const err = new Error("devices: cannot load 42", { cause: new Error("db: query failed", { cause }) });
    log.error("request failed", { error: err });
    expect(records()[0]!.error).toEqual({
      name: "Error",
      message: "devices: cannot load 42",
      cause: { name: "Error", message: "db: query failed", cause: { name: "Error", message: "connect ECONNREFUSED 127.0.0.1:5432" } },
    });
  });

  test("a cause chain that loops, or a field that cannot be serialized, does not break logging", () => {
    const { log, records } = capture();
    const looping = new Error("outer");
    (looping as { cause?: unknown }).cause = looping;
    log.error("looping cause", { error: looping });
    const cyclic = new Map<string, unknown>();
    const holder = { map: cyclic } as Record<string, unknown>;
    class Node {
      self = this;
    }
    holder.node = new Node();
    log.warn("cyclic field", holder);
    const [first, second] = records();
    expect(first!.msg).toBe("looping cause");
    expect(JSON.stringify(first!.error)).toContain('"message":"outer"');
    expect(second).toMatchObject({ level: "warn", msg: "cyclic field", log_error: expect.stringContaining("not serializable") });
  });

  test("the text format is a readable line with the same masking and errors", () => {
    const { log, lines } = capture({ format: "text" });
    log.warn("sign-in failed", { user: "bob", password: "hunter2", error: new Error("bad password", { cause: new Error("argon2 mismatch") }) });
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT\S+ WARN  sign-in failed user=bob password=\*\*\*\* error=/);
    expect(lines[0]).toContain('"message":"bad password"');
    expect(lines[0]).toContain('"message":"argon2 mismatch"');
    expect(lines[0]).not.toContain("hunter2");
  });
});
