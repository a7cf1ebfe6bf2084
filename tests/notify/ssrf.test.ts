// With notify.allow_private_networks off (the default), a tenant cannot make
// Pulse call into its own network: channels pointing at loopback, link-local
// (cloud metadata) or private addresses end as dead letters with an error
// that says why, and nothing is sent — over HTTP, SMTP, SNMP or MQTT alike.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { isPrivateAddress } from "../../src/notify/safe-fetch.ts";
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
