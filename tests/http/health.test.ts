// Health, readiness, metrics and the API's error conventions, on both databases.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { dbKinds } from "../helpers/databases.ts";
import { startPulse, type TestPulse } from "../helpers/pulse.ts";

for (const kind of dbKinds()) {
  describe(`health and conventions on ${kind}`, () => {
    let pulse: TestPulse;
    beforeAll(async () => {
      pulse = await startPulse({ db: kind });
    });
    afterAll(() => pulse.stop());

    test("the liveness probe answers without touching dependencies", async () => {
      const res = await fetch(`${pulse.url}/healthz`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: "ok" });
    });

    test("readiness reports the database and the broker", async () => {
      const res = await fetch(`${pulse.url}/readyz`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: "ready", checks: { database: "ok", mqtt: "ok" } });
    });

    test("metrics are Prometheus text with process, HTTP, database and broker series", async () => {
      await fetch(`${pulse.url}/api/v1/version`);
      const text = await (await fetch(`${pulse.url}/metrics`)).text();
      for (const name of ["process_resident_memory_bytes", "pulse_http_requests_total", "pulse_db_queries_total", "pulse_mqtt_connections", "pulse_build_info"]) {
        expect(text).toContain(`# TYPE ${name} `);
      }
      expect(text).toMatch(/pulse_http_requests_total\{method="GET",route="\/api\/v1\/version",status="200"\} \d+/);
    });

    test("every response carries a request id and security headers", async () => {
      const res = await fetch(`${pulse.url}/api/v1/version`, { headers: { "X-Request-Id": "trace-abc-12345" } });
      expect(res.headers.get("x-request-id")).toBe("trace-abc-12345");
      expect(res.headers.get("content-security-policy")).toContain("default-src 'self'");
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      const line = pulse.logs.find((l) => l.request_id === "trace-abc-12345");
      expect(line).toMatchObject({ msg: "http", path: "/api/v1/version", status: 200 });
    });

    test("API errors are JSON with a code and message; anonymous callers learn nothing about routes", async () => {
      const api = await fetch(`${pulse.url}/api/v1/nothing-here`);
      expect(api.status).toBe(401);
      expect(api.headers.get("www-authenticate")).toContain("Bearer");
      expect(await api.json()).toMatchObject({ error: { code: "unauthorized" } });
      const page = await fetch(`${pulse.url}/nothing-here`, { headers: { Accept: "text/html" }, redirect: "manual" });
      expect(page.status).toBe(303);
      expect(page.headers.get("location")).toBe("/login?next=%2Fnothing-here");
    });

    test("the OpenAPI 3.1 document is generated from the routes", async () => {
      const doc = (await (await fetch(`${pulse.url}/api/v1/openapi.json`)).json()) as { openapi: string; paths: Record<string, unknown> };
      expect(doc.openapi).toBe("3.1.0");
      expect(Object.keys(doc.paths)).toContain("/version");
    });
  });
}

describe("readiness when the database is gone", () => {
  test("answers 503 naming the failed check", async () => {
    const pulse = await startPulse({ db: "pglite" });
    try {
      await pulse.app.db.close();
      const res = await fetch(`${pulse.url}/readyz`);
      expect(res.status).toBe(503);
      const body = (await res.json()) as { checks: Record<string, string> };
      expect(body.checks.database).not.toBe("ok");
      expect(body.checks.mqtt).toBe("ok");
    } finally {
      await pulse.stop().catch(() => {});
    }
  });
});
