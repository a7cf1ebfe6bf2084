// With notify.allow_private_networks off (the default), a tenant cannot make
// Pulse call into its own network: channels pointing at loopback, link-local
// (cloud metadata) or private addresses end as dead letters with an error
// that says why, and nothing is sent — over HTTP, SMTP, SNMP or MQTT alike.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createSafeFetch, isPrivateAddress, pinnedRequest } from "../../src/notify/safe-fetch.ts";
import { startHttpReceiver, startSmtpServer, startTrapReceiver, type HttpReceiver, type SmtpReceiver, type TrapReceiver } from "../helpers/receivers.ts";
import { startWorld, type World } from "./fixtures.ts";

let w: World;
let rx: HttpReceiver;
let smtp: SmtpReceiver;
let traps: TrapReceiver;

beforeAll(async () => {
  rx = startHttpReceiver();
  smtp = await startSmtpServer();
  traps = await startTrapReceiver({ community: "public" });
  w = await startWorld({ config: { "notify.allow_private_networks": false } });
}, 60_000);
afterAll(async () => {
  await w.stop();
  rx.stop();
  await smtp.stop();
  await traps.stop();
}, 60_000);

describe("SSRF guard", () => {
  test("loopback, cloud metadata and private targets are refused as dead letters, and nothing is sent", async () => {
    const ids = {
      loopback: await w.channel("webhook", { url: rx.url("/internal") }),
      metadata: await w.channel("http", { url: "http://169.254.169.254/latest/meta-data/iam/security-credentials/" }),
      mapped: await w.channel("slack", { url: `http://[::ffff:127.0.0.1]:${rx.port}/mapped` }),
      pagerduty: await w.channel("pagerduty", { routing_key: "a".repeat(32), events_url: rx.url("/pd") }),
      email: await w.channel("email", { recipients: ["ops@acme.test"], smtp_host: "127.0.0.1", smtp_port: smtp.port, smtp_security: "none", from: "pulse@acme.test" }),
      snmp: await w.channel("snmp", { version: "2c", host: "127.0.0.1", port: traps.port, community: "public" }),
      mqtt: await w.channel("mqtt", { broker_url: "mqtt://10.0.0.1:1883" }),
    };
    for (const id of Object.values(ids)) await w.route(id);
    await w.rule("m_ssrf");
    await w.send("pump-7", { m_ssrf: 100 });
    await w.drain();

    const deliveries = await w.deliveries();
    expect(deliveries).toHaveLength(Object.keys(ids).length);
    for (const d of deliveries) {
      expect(d.status).toBe("dead");
      expect(d.attempts).toBe(1);
      expect(d.last_error).toContain("private address");
      expect(d.last_error).toContain("allow_private_networks");
    }
    expect(deliveries.find((d) => d.channel_id === ids.metadata)!.last_error).toContain("169.254.169.254");
    expect(rx.requests).toHaveLength(0);
    expect(smtp.mails).toHaveLength(0);
    await Bun.sleep(200);
    expect(traps.traps).toHaveLength(0);

    // "Send test" says the same, at once.
    const test = await w.api(`/notification-channels/${ids.loopback}/test`, { method: "POST" });
    expect(test.body).toMatchObject({ ok: false });
    expect(test.body.error).toContain("private address");
  });

  test("IPv4 hidden in IPv6 forms is recognised", () => {
    for (const ip of ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "::1", "::", "::ffff:127.0.0.1", "::ffff:7f00:1", "::7f00:1", "64:ff9b::a9fe:a9fe", "2002:7f00:1::", "fe80::1", "fd12::1", "ff02::1"]) {
      expect([ip, isPrivateAddress(ip)]).toEqual([ip, true]);
    }
    for (const ip of ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8", "2001:db8::1"]) expect([ip, isPrivateAddress(ip)]).toEqual([ip, false]);
  });
});

describe("one lookup: the request goes where the check looked (no DNS rebinding)", () => {
  /** A resolver answering from a script, one answer per call (the last repeats), counting calls. */
  const scripted = (...answers: string[][]) => {
    const calls: string[] = [];
    const resolve = async (host: string) => {
      calls.push(host);
      return answers[Math.min(calls.length, answers.length) - 1]!;
    };
    return { resolve, calls };
  };

  test("the name is resolved once and the request is sent to that address, with the name as Host", async () => {
    // hooks.example.test exists only in this resolver: had fetch looked the name up again, it would have failed.
    const dns = scripted(["127.0.0.1"]);
    const safeFetch = createSafeFetch({ allowPrivate: true, timeoutMs: 5_000, resolve: dns.resolve });
    const res = await safeFetch(`http://hooks.example.test:${rx.port}/pinned?x=1`, { method: "POST", body: "hello" });
    expect(res.status).toBe(200);
    expect(dns.calls).toEqual(["hooks.example.test"]);
    expect(rx.at("/pinned")).toMatchObject([{ method: "POST", body: "hello", headers: { host: `hooks.example.test:${rx.port}` } }]);
  });

  test("a name that answers a public address to the check and loopback afterwards never reaches loopback", async () => {
    const dns = scripted(["203.0.113.10"], ["127.0.0.1"]);
    const safeFetch = createSafeFetch({ allowPrivate: false, timeoutMs: 500, resolve: dns.resolve });
    const before = rx.requests.length;
    await expect(safeFetch(`http://rebind.example.test:${rx.port}/rebound`, { method: "POST", body: "x" })).rejects.toThrow();
    expect(dns.calls).toEqual(["rebind.example.test"]);
    expect(rx.requests.length).toBe(before);
  });

  test("every address of the name is checked: one private address refuses it", async () => {
    const dns = scripted(["203.0.113.10", "10.0.0.7"]);
    const safeFetch = createSafeFetch({ allowPrivate: false, timeoutMs: 500, resolve: dns.resolve });
    await expect(safeFetch("https://mixed.example.test/hook", { method: "POST", body: "x" })).rejects.toThrow("mixed.example.test resolves to a private address (10.0.0.7)");
  });

  test("when the first address refuses the connection the next is tried", async () => {
    // Port 9 on ::1 has nothing listening here (and the receiver is on 127.0.0.1 only).
    const dns = scripted(["::1", "127.0.0.1"]);
    const safeFetch = createSafeFetch({ allowPrivate: true, timeoutMs: 5_000, resolve: dns.resolve });
    expect((await safeFetch(`http://dual.example.test:${rx.port}/dual`, { method: "GET" })).status).toBe(200);
    expect(rx.at("/dual")).toHaveLength(1);
  });

  test("over HTTPS the name stays the TLS server name and the name the certificate must hold", () => {
    const { url, init } = pinnedRequest(new URL("https://hooks.example.test/v1/hook"), "2001:db8::5", { headers: { "content-type": "application/json" } });
    expect(url.href).toBe("https://[2001:db8::5]/v1/hook");
    const headers = new Headers(init.headers);
    expect([headers.get("host"), headers.get("content-type")]).toEqual(["hooks.example.test", "application/json"]);
    const tls = (init as { tls: { serverName: string; checkServerIdentity: (host: string, cert: unknown) => Error | undefined } }).tls;
    expect(tls.serverName).toBe("hooks.example.test");
    const cert = (names: string) => ({ subject: { CN: "x" }, subjectaltname: names });
    expect(tls.checkServerIdentity("2001:db8::5", cert("DNS:hooks.example.test"))).toBeUndefined();
    expect(tls.checkServerIdentity("2001:db8::5", cert("DNS:evil.example.test"))).toBeInstanceOf(Error);
    // An address in the URL is sent as it is.
    expect(pinnedRequest(new URL("https://192.0.2.1/x"), "192.0.2.1", {}).url.href).toBe("https://192.0.2.1/x");
  });
});
