// Envelope v1 and MQTT topics, rule by rule (shared/PROTOCOL.md): pure
// functions, no server. Each rule is checked on both sides of its edge.
import { describe, expect, test } from "bun:test";
import { parseEnvelope, parseMessage, parseTopic, REASONS, type Origin, type Parsed } from "../../src/ingest/parse.ts";

const NOW = new Date("2026-03-01T12:00:00.000Z");
const NOW_S = NOW.getTime() / 1000;
const TOPIC: Origin = { tenantId: "acme", deviceId: "pump-7", msgType: "telemetry" };
const HB: Origin = { ...TOPIC, msgType: "heartbeat" };
const MAX = 8192;

const parse = (doc: unknown, origin: Origin = TOPIC): Parsed => parseMessage(typeof doc === "string" ? doc : JSON.stringify(doc), origin, { now: NOW, maxBytes: MAX });

function ok(p: Parsed) {
  if (!p.ok) throw new Error(`expected the message to be accepted, got ${p.reason}: ${p.detail}`);
  return p.env;
}
function reason(p: Parsed): string {
  return p.ok ? "accepted" : p.reason;
}

describe("a valid envelope", () => {
  test("the example from PROTOCOL.md parses into every field", () => {
    const env = ok(
      parse({ version: "1", ts: 1772366400, site_id: "lab-1", seq: 42, metrics: { temp_c: 21.5, door_open: false, battery_pct: 87 }, lat: 52.52, lng: 13.4, provision_token: "s3cret" }),
    );
    expect(env).toEqual({
      tenantId: "acme",
      deviceId: "pump-7",
      msgType: "telemetry",
      time: new Date(1772366400_000),
      siteId: "lab-1",
      seq: 42,
      metrics: { temp_c: 21.5, door_open: false, battery_pct: 87 },
      lat: 52.52,
      lng: 13.4,
      provisionToken: "s3cret",
    });
  });

  test("version may be the string \"1\", the number 1, or absent", () => {
    for (const version of ["1", 1, undefined]) expect(reason(parse({ version, metrics: { a: 1 } }))).toBe("accepted");
  });

  test("any other version is UNSUPPORTED_VERSION", () => {
    for (const version of ["2", 2, "1.1", "v1", 0, true, ""]) {
      const p = parse({ version, metrics: { a: 1 } });
      expect(reason(p)).toBe("UNSUPPORTED_VERSION");
    }
  });

  test("unknown fields are ignored and not carried along", () => {
    const env = ok(parse({ metrics: { a: 1 }, firmware: "2.3.1", rssi: -70, nested: { x: [1, 2] }, extra: null }));
    expect(Object.keys(env).sort()).toEqual(["deviceId", "metrics", "msgType", "tenantId", "time"]);
  });
});

describe("ts", () => {
  test("unix seconds, including fractions", () => {
    expect(ok(parse({ ts: NOW_S - 10, metrics: { a: 1 } })).time).toEqual(new Date(NOW.getTime() - 10_000));
    expect(ok(parse({ ts: NOW_S - 0.25, metrics: { a: 1 } })).time).toEqual(new Date(NOW.getTime() - 250));
  });

  test("ISO-8601 strings, in UTC or with an offset", () => {
    expect(ok(parse({ ts: "2026-03-01T11:59:00Z", metrics: { a: 1 } })).time).toEqual(new Date("2026-03-01T11:59:00Z"));
    expect(ok(parse({ ts: "2026-03-01T12:59:30.500+01:00", metrics: { a: 1 } })).time).toEqual(new Date("2026-03-01T11:59:30.500Z"));
  });

  test("absent (or null) means the server's receive time", () => {
    expect(ok(parse({ metrics: { a: 1 } })).time).toEqual(NOW);
    expect(ok(parse({ ts: null, metrics: { a: 1 } })).time).toEqual(NOW);
  });

  test("up to 60 s in the future is accepted; more is FUTURE_TIMESTAMP", () => {
    expect(reason(parse({ ts: NOW_S + 60, metrics: { a: 1 } }))).toBe("accepted");
    expect(reason(parse({ ts: "2026-03-01T12:01:00Z", metrics: { a: 1 } }))).toBe("accepted");
    expect(reason(parse({ ts: NOW_S + 61, metrics: { a: 1 } }))).toBe("FUTURE_TIMESTAMP");
    expect(reason(parse({ ts: "2026-03-01T12:01:01Z", metrics: { a: 1 } }))).toBe("FUTURE_TIMESTAMP");
    // A device that sends milliseconds instead of seconds lands far in the future.
    expect(reason(parse({ ts: NOW.getTime(), metrics: { a: 1 } }))).toBe("FUTURE_TIMESTAMP");
  });

  test("up to 30 days old is accepted; older is STALE_TIMESTAMP", () => {
    const day = 86_400;
    expect(reason(parse({ ts: NOW_S - 30 * day, metrics: { a: 1 } }))).toBe("accepted");
    expect(reason(parse({ ts: NOW_S - 30 * day - 1, metrics: { a: 1 } }))).toBe("STALE_TIMESTAMP");
    expect(reason(parse({ ts: "2026-01-01T00:00:00Z", metrics: { a: 1 } }))).toBe("STALE_TIMESTAMP");
    expect(reason(parse({ ts: 0, metrics: { a: 1 } }))).toBe("STALE_TIMESTAMP");
  });

  test("a ts that is neither unix seconds nor ISO-8601 is refused", () => {
    for (const ts of ["yesterday", "1772366400", "03/01/2026 12:00", "2026-03-01", true, { s: 1 }, [1]]) {
      const p = parse({ ts, metrics: { a: 1 } });
      expect(p.ok).toBe(false);
    }
  });
});

describe("metrics", () => {
  test("names follow [A-Za-z_][A-Za-z0-9_.-]{0,63}", () => {
    for (const name of ["temp_c", "_private", "a", "Zone1.temp-max", "x".repeat(64)]) expect(reason(parse({ metrics: { [name]: 1 } }))).toBe("accepted");
    for (const name of ["", "1st", "-x", ".x", "has space", "temp/c", "ü", "x".repeat(65), "a+b"]) expect(reason(parse({ metrics: { [name]: 1 } }))).toBe("INVALID_METRIC");
  });

  test("__proto__ fits the pattern but is refused by name: stored as a key it would vanish", () => {
    const refused = parse('{"metrics": {"__proto__": 1, "temp_c": 20}}');
    expect(reason(refused)).toBe("INVALID_METRIC");
    expect(refused.ok ? "" : refused.detail).toBe('metric name "__proto__" is not allowed');
  });

  test("values: finite numbers, booleans and strings of at most 64 characters", () => {
    const env = ok(parse({ metrics: { n: -1.5e3, zero: 0, yes: true, no: false, mode: "cool", empty: "", long: "é".repeat(64) } }));
    expect(env.metrics).toEqual({ n: -1500, zero: 0, yes: true, no: false, mode: "cool", empty: "", long: "é".repeat(64) });
    expect(reason(parse({ metrics: { mode: "x".repeat(65) } }))).toBe("INVALID_METRIC");
  });

  test("NUL inside a string is refused (Postgres cannot store it)", () => {
    expect(reason(parse('{"metrics": {"mode": "co\\u0000ol"}}'))).toBe("INVALID_METRIC");
  });

  test("non-finite numbers are refused: 1e999 in JSON, and NaN/Infinity handed over decoded", () => {
    expect(reason(parse('{"metrics": {"x": 1e999}}'))).toBe("INVALID_METRIC");
    expect(reason(parse('{"metrics": {"x": -1e999}}'))).toBe("INVALID_METRIC");
    for (const x of [NaN, Infinity, -Infinity]) expect(reason(parseEnvelope({ metrics: { x } }, TOPIC, NOW))).toBe("INVALID_METRIC");
  });

  test("null, objects and arrays are not metric values", () => {
    for (const v of [null, { a: 1 }, [1, 2], []]) expect(reason(parse({ metrics: { v } }))).toBe("INVALID_METRIC");
  });

  test("metrics must be an object", () => {
    for (const metrics of [[1, 2], "temp=1", 5, true]) expect(reason(parse({ metrics }))).toBe("INVALID_METRIC");
  });

  test("at most 256 metrics in one message", () => {
    const many = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`m${i}`, i]));
    expect(reason(parse({ metrics: many(256) }))).toBe("accepted");
    expect(reason(parse({ metrics: many(257) }))).toBe("INVALID_METRIC");
  });

  test("telemetry without metrics is MISSING_METRICS; heartbeats may omit them", () => {
    for (const body of [{}, { metrics: {} }, { metrics: null }, { ts: NOW_S }]) {
      expect(reason(parse(body))).toBe("MISSING_METRICS");
      expect(ok(parse(body, HB)).metrics).toEqual({});
    }
    expect(ok(parse({ metrics: { uptime_s: 12 } }, HB)).metrics).toEqual({ uptime_s: 12 });
  });
});

describe("other fields", () => {
  test("seq must be a non-negative integer", () => {
    expect(ok(parse({ seq: 0, metrics: { a: 1 } })).seq).toBe(0);
    expect(ok(parse({ seq: 2 ** 40, metrics: { a: 1 } })).seq).toBe(2 ** 40);
    for (const seq of [-1, 1.5, "7", true]) expect(parse({ seq, metrics: { a: 1 } }).ok).toBe(false);
  });

  test("lat and lng must be on the globe", () => {
    expect(ok(parse({ lat: -90, lng: 180, metrics: { a: 1 } }))).toMatchObject({ lat: -90, lng: 180 });
    for (const pos of [{ lat: 90.01 }, { lng: -180.5 }, { lat: "52.5" }]) expect(reason(parse({ ...pos, metrics: { a: 1 } }))).toBe("INVALID_METRIC");
  });

  test("site_id must be an id (whether it matches the registry is checked later)", () => {
    expect(ok(parse({ site_id: "plant.2", metrics: { a: 1 } })).siteId).toBe("plant.2");
    for (const site_id of ["bad site", 7, ""]) expect(reason(parse({ site_id, metrics: { a: 1 } }))).toBe("SITE_MISMATCH");
  });

  test("provision_token is carried along when it is a string", () => {
    expect(ok(parse({ provision_token: "abc", metrics: { a: 1 } })).provisionToken).toBe("abc");
    expect(reason(parse({ provision_token: 12345, metrics: { a: 1 } }))).toBe("TOKEN_INVALID");
  });
});

describe("identity in the body versus the topic", () => {
  test("tenant_id, device_id and msg_type may repeat the topic", () => {
    expect(reason(parse({ tenant_id: "acme", device_id: "pump-7", msg_type: "telemetry", metrics: { a: 1 } }))).toBe("accepted");
  });

  test("a body that contradicts the topic is INVALID_TOPIC, attributed to the topic's tenant and device", () => {
    for (const body of [{ tenant_id: "globex" }, { device_id: "pump-8" }, { msg_type: "heartbeat" }, { tenant_id: 7 }]) {
      const p = parse({ ...body, metrics: { a: 1 } });
      expect(p).toMatchObject({ ok: false, reason: "INVALID_TOPIC", tenantId: "acme", deviceId: "pump-7" });
    }
  });

  test("without a topic (batch), the body names the device; missing or malformed ids are INVALID_TOPIC", () => {
    const env = ok(parseEnvelope({ tenant_id: "globex", device_id: "g-1", msg_type: "heartbeat" }, {}, NOW));
    expect(env).toMatchObject({ tenantId: "globex", deviceId: "g-1", msgType: "heartbeat" });
    for (const body of [
      { device_id: "g-1", msg_type: "heartbeat" },
      { tenant_id: "globex", msg_type: "heartbeat" },
      { tenant_id: "globex", device_id: "g-1" },
      { tenant_id: "globex", device_id: "g-1", msg_type: "commands" },
      { tenant_id: "glo bex", device_id: "g-1", msg_type: "heartbeat" },
      { tenant_id: "globex", device_id: "-g", msg_type: "heartbeat" },
    ])
      expect(reason(parseEnvelope(body, {}, NOW))).toBe("INVALID_TOPIC");
  });
});

describe("the raw body", () => {
  test("more than maxBytes (counted in UTF-8 bytes) is PAYLOAD_TOO_LARGE", () => {
    const pad = (n: number) => JSON.stringify({ metrics: { a: 1 }, pad: "x".repeat(n - 28) });
    expect(Buffer.byteLength(pad(MAX))).toBe(MAX);
    expect(reason(parse(pad(MAX)))).toBe("accepted");
    expect(reason(parse(pad(MAX + 1)))).toBe("PAYLOAD_TOO_LARGE");
    const wide = JSON.stringify({ metrics: { a: 1 }, pad: "€".repeat(3000) }); // 3 bytes each
    expect(wide.length).toBeLessThan(MAX);
    expect(reason(parse(wide))).toBe("PAYLOAD_TOO_LARGE");
    expect(reason(parseMessage(new TextEncoder().encode(wide), TOPIC, { now: NOW, maxBytes: MAX }))).toBe("PAYLOAD_TOO_LARGE");
  });

  test("bytes are accepted as well as strings", () => {
    expect(ok(parseMessage(new TextEncoder().encode('{"metrics":{"a":1}}'), TOPIC, { now: NOW, maxBytes: MAX })).metrics).toEqual({ a: 1 });
  });

  test("anything but a JSON object is INVALID_JSON", () => {
    for (const body of ["", "not json", '{"metrics": {"a": 1}', "[1,2]", '"text"', "42", "null", "true"]) {
      expect(reason(parse(body))).toBe("INVALID_JSON");
    }
  });

  test("every rejection names a reason from PROTOCOL.md and says why", () => {
    for (const body of ["nope", { version: "9" }, {}, { metrics: { "1": 1 } }, { ts: NOW_S + 600, metrics: { a: 1 } }]) {
      const p = parse(body);
      if (p.ok) throw new Error("expected a rejection");
      expect(REASONS).toContain(p.reason);
      expect(p.detail.length).toBeGreaterThan(5);
    }
  });
});

describe("topics", () => {
  test("tenant/{tenant}/device/{device}/{telemetry|heartbeat}", () => {
    expect(parseTopic("tenant/acme/device/pump-7/telemetry")).toEqual({ tenantId: "acme", deviceId: "pump-7", msgType: "telemetry" });
    expect(parseTopic("tenant/A.b_c-1/device/x/heartbeat")).toEqual({ tenantId: "A.b_c-1", deviceId: "x", msgType: "heartbeat" });
  });

  test("anything else is refused", () => {
    for (const topic of [
      "",
      "tenant/acme/device/pump-7",
      "tenant/acme/device/pump-7/commands",
      "tenant/acme/device/pump-7/status",
      "tenant/acme/device/pump-7/telemetry/extra",
      "tenant/acme/device/pump-7/telemetry/",
      "/tenant/acme/device/pump-7/telemetry",
      "tenants/acme/device/pump-7/telemetry",
      "tenant/acme/devices/pump-7/telemetry",
      "tenant//device/pump-7/telemetry",
      "tenant/acme/device//telemetry",
      "tenant/+/device/pump-7/telemetry",
      "tenant/acme/device/#",
      "tenant/ac me/device/pump-7/telemetry",
      "tenant/acme/device/.hidden/telemetry",
      `tenant/${"a".repeat(65)}/device/pump-7/telemetry`,
      "$SYS/broker/clients",
      "tenant/acme/device/pump-7/Telemetry",
    ])
      expect(parseTopic(topic)).toBeUndefined();
  });
});
