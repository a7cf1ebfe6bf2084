// The /metrics registry speaks the Prometheus text exposition format:
// HELP and TYPE lines, escaped labels, counters that add up, gauges read at
// scrape time, and cumulative histogram buckets ending in +Inf.
import { describe, expect, test } from "bun:test";
import { createMetrics } from "../../src/lib/metrics.ts";

const lines = (text: string) => text.trimEnd().split("\n");

describe("metrics", () => {
  test("counters add up per label set, whatever the order of the labels", () => {
    const m = createMetrics();
    const requests = m.counter("pulse_http_requests_total", "HTTP requests by route and status.");
    requests.inc({ method: "GET", status: "200" });
    requests.inc({ status: "200", method: "GET" }, 2);
    requests.inc({ method: "POST", status: "201" });
    expect(requests.get({ method: "GET", status: "200" })).toBe(3);
    expect(requests.get({ method: "DELETE", status: "204" })).toBe(0);
    expect(lines(m.render())).toEqual([
      "# HELP pulse_http_requests_total HTTP requests by route and status.",
      "# TYPE pulse_http_requests_total counter",
      'pulse_http_requests_total{method="GET",status="200"} 3',
      'pulse_http_requests_total{method="POST",status="201"} 1',
    ]);
  });

  test("label values escape backslashes, double quotes and newlines; HELP text escapes backslashes and newlines", () => {
    const m = createMetrics();
    m.counter("pulse_ingest_rejected_total", "Rejected messages\nby reason (see C:\\docs).").inc({ reason: 'bad "json"\nat C:\\x' });
    expect(lines(m.render())).toEqual([
      "# HELP pulse_ingest_rejected_total Rejected messages\\nby reason (see C:\\\\docs).",
      "# TYPE pulse_ingest_rejected_total counter",
      'pulse_ingest_rejected_total{reason="bad \\"json\\"\\nat C:\\\\x"} 1',
    ]);
  });

  test("histograms have cumulative buckets, a +Inf bucket equal to the count, a sum and a count", () => {
    const m = createMetrics();
    const latency = m.histogram("pulse_alert_latency_seconds", "Time from message to alert.", [0.1, 0.5, 1]);
    for (const v of [0.05, 0.1, 0.3, 0.7, 2.5]) latency.observe(v, { tenant: "acme" });
    expect(lines(m.render())).toEqual([
      "# HELP pulse_alert_latency_seconds Time from message to alert.",
      "# TYPE pulse_alert_latency_seconds histogram",
      'pulse_alert_latency_seconds_bucket{tenant="acme",le="0.1"} 2',
      'pulse_alert_latency_seconds_bucket{tenant="acme",le="0.5"} 3',
      'pulse_alert_latency_seconds_bucket{tenant="acme",le="1"} 4',
      'pulse_alert_latency_seconds_bucket{tenant="acme",le="+Inf"} 5',
      'pulse_alert_latency_seconds_sum{tenant="acme"} 3.65',
      'pulse_alert_latency_seconds_count{tenant="acme"} 5',
    ]);
  });

  test("the default buckets suit seconds and are all rendered", () => {
    const m = createMetrics();
    m.histogram("pulse_job_duration_seconds", "Job run time.").observe(0.003);
    const buckets = lines(m.render()).filter((l) => l.startsWith("pulse_job_duration_seconds_bucket"));
    expect(buckets[0]).toBe('pulse_job_duration_seconds_bucket{le="0.001"} 0');
    expect(buckets.at(-1)).toBe('pulse_job_duration_seconds_bucket{le="+Inf"} 1');
    const counts = buckets.map((l) => Number(l.split(" ")[1]));
    expect(counts).toEqual([...counts].sort((a, b) => a - b)); // never decreasing
  });

  test("gauges hold the last value; collected values are read at scrape time, typed as asked", () => {
    const m = createMetrics();
    m.gauge("pulse_mqtt_connections", "Open MQTT connections.").set(7);
    let depth = 3;
    m.collect("pulse_outbox_depth", "Notifications waiting.", () => depth);
    m.collect("pulse_db_queries_total", "Queries run.", () => [[10, { db: "main" }]], "counter");
    m.collect("pulse_cert_expiry_seconds", "Until the TLS certificate expires.", () => Infinity);
    depth = 5;
    expect(lines(m.render())).toEqual([
      "# HELP pulse_mqtt_connections Open MQTT connections.",
      "# TYPE pulse_mqtt_connections gauge",
      "pulse_mqtt_connections 7",
      "# HELP pulse_outbox_depth Notifications waiting.",
      "# TYPE pulse_outbox_depth gauge",
      "pulse_outbox_depth 5",
      "# HELP pulse_db_queries_total Queries run.",
      "# TYPE pulse_db_queries_total counter",
      'pulse_db_queries_total{db="main"} 10',
      "# HELP pulse_cert_expiry_seconds Until the TLS certificate expires.",
      "# TYPE pulse_cert_expiry_seconds gauge",
      "pulse_cert_expiry_seconds +Inf",
    ]);
  });

  test("registering a name again returns the same metric; another kind is an error", () => {
    const m = createMetrics();
    m.counter("pulse_logins_total", "Sign-ins.").inc();
    m.counter("pulse_logins_total", "Sign-ins.").inc();
    expect(m.counter("pulse_logins_total", "Sign-ins.").get()).toBe(2);
    expect(() => m.gauge("pulse_logins_total", "Sign-ins.")).toThrow("metrics: pulse_logins_total registered twice with different kinds");
  });

  test("the rendered text ends with a newline, as scrapers require", () => {
    const m = createMetrics();
    m.gauge("pulse_up", "Always 1.").set(1);
    expect(m.render().endsWith("pulse_up 1\n")).toBe(true);
  });
});
