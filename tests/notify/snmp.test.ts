// SNMP traps received by real receivers: net-snmp's notification receiver
// and Debian's snmptrapd, v2c (community) and v3 (authPriv SHA/AES from this
// installation's engine id). The PDU starts with sysUpTime.0 and
// snmpTrapOID.0; Pulse's objects follow under the enterprise prefix, and the
// MIB served by the API declares exactly those OIDs.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import * as snmp from "net-snmp";
import { writeFileSync } from "node:fs";
import { withSystem } from "../../src/db/scope.ts";
import { ensureSnmpEngineId, sampleEvent } from "../../src/notify/service.ts";
import { pulseMib, snmpTrap } from "../../src/notify/channels/snmp.ts";
import { manualClock } from "../../src/lib/clock.ts";
import { tempDir } from "../helpers/databases.ts";
import { SNMPTRAPD, startSnmptrapd, startTrapReceiver, type TrapReceiver } from "../helpers/receivers.ts";
import { startWorld, type World } from "./fixtures.ts";

const PREFIX = "1.3.6.1.4.1.59999.1";
const V3 = { name: "pulse-nms", authKey: "auth-key-for-tests", privKey: "priv-key-for-tests" };

let w: World;
let engineId: string;

beforeAll(async () => {
  w = await startWorld();
  const [row] = await withSystem(w.pulse.app.db, (tx) => tx.query<{ value: string }>("select value from settings where key = 'notify.snmp_engine_id'"));
  engineId = row!.value;
}, 60_000);
afterEach(() => w.reset(), 60_000);
afterAll(() => w.stop(), 60_000);

const sampleTrapEvent = () => sampleEvent({ publicUrl: () => "http://pulse.test", clock: manualClock() }, { tenantId: "acme" } as never, "alert.triggered");

/** Varbinds of a trap as oid → value. */
const varbinds = (vbs: snmp.Varbind[]) => new Map(vbs.map((v) => [v.oid, Buffer.isBuffer(v.value) ? v.value.toString("utf8") : String(v.value)]));

/** Fire then clear one alert on pump-7 through a channel; returns the alert id. */
async function fireAndClear(settings: Record<string, unknown>, metric: string): Promise<string> {
  const ch = await w.channel("snmp", settings);
  await w.route(ch);
  await w.rule(metric);
  await w.send("pump-7", { [metric]: 97.5 });
  const alert = (await w.alertOf("pump-7", metric))!;
  await w.send("pump-7", { [metric]: 1 });
  await w.drain();
  const ds = await w.deliveries(ch);
  expect(ds.map((d) => [d.status, d.last_error])).toEqual([
    ["delivered", null],
    ["delivered", null],
  ]);
  return alert.id;
}

function expectPulseObjects(vb: Map<string, string>, alertId: string) {
  expect(vb.get(`${PREFIX}.1.1.0`)).toBe(alertId);
  expect(vb.get(`${PREFIX}.1.2.0`)).toBe("acme");
  expect(vb.get(`${PREFIX}.1.3.0`)).toBe("pump-7");
  expect(vb.get(`${PREFIX}.1.4.0`)).toBe("plant");
  expect(vb.get(`${PREFIX}.1.5.0`)).toBe("1"); // critical
  expect(vb.get(`${PREFIX}.1.6.0`)).toBe("THRESHOLD");
  expect(vb.get(`${PREFIX}.1.7.0`)).toContain("on pump-7");
  expect(vb.get(`${PREFIX}.1.9.0`)).toEndWith(`/alerts/${alertId}`);
  expect(vb.get(`${PREFIX}.1.10.0`)).toMatch(/^msg_/);
}

describe("net-snmp receiver", () => {
  let rx: TrapReceiver;
  afterEach(() => rx?.stop(), 60_000);

  test("v2c: firing then resolved traps, sysUpTime.0 and snmpTrapOID.0 first", async () => {
    rx = await startTrapReceiver({ community: "pulse-community" });
    const alertId = await fireAndClear({ version: "2c", host: "127.0.0.1", port: rx.port, community: "pulse-community" }, "m_v2c");
    const [firing, resolved] = await rx.waitFor(2);
    for (const [trap, oid] of [
      [firing!, `${PREFIX}.0.1`],
      [resolved!, `${PREFIX}.0.2`],
    ] as const) {
      expect(trap.pdu.type).toBe(snmp.PduType.TrapV2!);
      expect(trap.pdu.varbinds[0]!.oid).toBe("1.3.6.1.2.1.1.3.0");
      expect(trap.pdu.varbinds[0]!.type).toBe(snmp.ObjectType.TimeTicks!);
      expect(trap.pdu.varbinds[1]).toMatchObject({ oid: "1.3.6.1.6.3.1.1.4.1.0", value: oid });
      expectPulseObjects(varbinds(trap.pdu.varbinds), alertId);
    }
    expect(varbinds(firing!.pdu.varbinds).get(`${PREFIX}.1.8.0`)).toBe("97.5");
    expect(varbinds(resolved!.pdu.varbinds).get(`${PREFIX}.1.8.0`)).toBe("1");
  });

  test("v2c with the wrong community is not accepted", async () => {
    rx = await startTrapReceiver({ community: "right" });
    await fireAndClear({ version: "2c", host: "127.0.0.1", port: rx.port, community: "wrong" }, "m_v2c_bad");
    await Bun.sleep(300);
    expect(rx.traps).toHaveLength(0);
    expect(rx.errors.length).toBeGreaterThan(0);
  });

  test("v3 authPriv SHA/AES from the installation's engine id", async () => {
    rx = await startTrapReceiver({ user: { name: V3.name, level: snmp.SecurityLevel.authPriv, authProtocol: snmp.AuthProtocols.sha, authKey: V3.authKey, privProtocol: snmp.PrivProtocols.aes, privKey: V3.privKey } });
    const alertId = await fireAndClear({ version: "3", host: "127.0.0.1", port: rx.port, user: V3.name, auth_key: V3.authKey, priv_key: V3.privKey }, "m_v3");
    const [firing, resolved] = await rx.waitFor(2);
    expect(firing!.pdu.scoped).toBe(true);
    expect(firing!.pdu.varbinds[1]!.value).toBe(`${PREFIX}.0.1`);
    expect(resolved!.pdu.varbinds[1]!.value).toBe(`${PREFIX}.0.2`);
    expectPulseObjects(varbinds(firing!.pdu.varbinds), alertId);
  });
});

describe.if(Boolean(SNMPTRAPD))("snmptrapd", () => {
  test("decodes v2c and v3 traps (the v3 user bound to the engine id Pulse shows)", async () => {
    expect(engineId).toMatch(/^8000ea5f05[0-9a-f]{24}$/);
    const trapd = await startSnmptrapd({ community: "public", v3: { engineId, user: V3.name, authKey: V3.authKey, privKey: V3.privKey } });
    try {
      const v2 = await fireAndClear({ version: "2c", host: "127.0.0.1", port: trapd.port, community: "public" }, "m_trapd2");
      await w.reset();
      const v3 = await fireAndClear({ version: "3", host: "127.0.0.1", port: trapd.port, user: V3.name, auth_key: V3.authKey, priv_key: V3.privKey }, "m_trapd3");
      const traps = await trapd.waitFor(4);
      expect(traps.map((t) => t.varbinds.get("1.3.6.1.6.3.1.1.4.1.0"))).toEqual([`${PREFIX}.0.1`, `${PREFIX}.0.2`, `${PREFIX}.0.1`, `${PREFIX}.0.2`]);
      expectPulseObjects(traps[0]!.varbinds, v2);
      expectPulseObjects(traps[2]!.varbinds, v3);
      expect(traps[0]!.varbinds.get(`${PREFIX}.1.8.0`)).toBe("97.5");
    } finally {
      await trapd.stop();
    }
  });

  test("refuses v3 traps under another engine id", async () => {
    const trapd = await startSnmptrapd({ v3: { engineId: "8000ea5f05" + "00".repeat(12), user: V3.name, authKey: V3.authKey, privKey: V3.privKey } });
    try {
      await fireAndClear({ version: "3", host: "127.0.0.1", port: trapd.port, user: V3.name, auth_key: V3.authKey, priv_key: V3.privKey }, "m_trapd_bad");
      await Bun.sleep(500);
      expect(trapd.traps).toHaveLength(0);
    } finally {
      await trapd.stop();
    }
  });
});

describe("engine id and MIB", () => {
  test("the engine id is stable, stored, and shown with a v3 channel's config and preview", async () => {
    const id = await w.channel("snmp", { version: "3", host: "nms.acme.test", user: V3.name, auth_key: V3.authKey, priv_key: V3.privKey });
    const { body } = await w.api(`/notification-channels/${id}`);
    expect(body.config).toMatchObject({ engine_id: engineId, enterprise_oid: PREFIX, trap_oids: { firing: `${PREFIX}.0.1`, resolved: `${PREFIX}.0.2` } });
    expect((await w.api(`/notification-channels/${id}/preview`)).body.body).toContain(`engine id ${engineId}`);
    // Kept in the settings table: another start (even with a new secret key) keeps it.
    expect(await ensureSnmpEngineId(w.pulse.app.db, "a-different-secret-key-a-different-secret-key")).toBe(engineId);
  });

  test("GET /notification-channels/snmp/mib serves PULSE-MIB, declaring the OIDs Pulse sends", async () => {
    const res = await w.api("/notification-channels/snmp/mib");
    expect(res.status).toBe(200);
    const mib = res.body as string;
    expect(mib).toStartWith("PULSE-MIB DEFINITIONS ::= BEGIN");
    const file = `${tempDir()}/PULSE-MIB.txt`;
    writeFileSync(file, mib);
    const store = snmp.createModuleStore();
    store.loadFromFile(file);
    const oid = (name: string) => store.translate(`PULSE-MIB::${name}`, snmp.OidFormat.oid);
    expect(oid("pulseAlertFiring")).toBe(`${PREFIX}.0.1`);
    expect(oid("pulseAlertResolved")).toBe(`${PREFIX}.0.2`);
    expect(oid("pulseAlertAcknowledged")).toBe(`${PREFIX}.0.3`);
    expect(oid("pulseTestNotification")).toBe(`${PREFIX}.0.4`);
    const objects = ["pulseAlertId", "pulseAlertTenant", "pulseAlertDevice", "pulseAlertSite", "pulseAlertSeverity", "pulseAlertType", "pulseAlertSummary", "pulseAlertValue", "pulseAlertUrl", "pulseNotificationId"];
    objects.forEach((name, i) => expect([name, oid(name)]).toEqual([name, `${PREFIX}.1.${i + 1}`]));
    expect((await w.api("/notification-channels/snmp/mib", { key: "wrong" })).status).toBe(401);
  });

  test("under another enterprise prefix the MIB follows it", () => {
    const other = "1.3.6.1.4.1.12345.7.3";
    const file = `${tempDir()}/PULSE-MIB.txt`;
    writeFileSync(file, pulseMib(other));
    const store = snmp.createModuleStore();
    store.loadFromFile(file);
    expect(store.translate("PULSE-MIB::pulseAlertFiring", snmp.OidFormat.oid)).toBe(`${other}.0.1`);
    expect(store.translate("PULSE-MIB::pulseNotificationId", snmp.OidFormat.oid)).toBe(`${other}.1.10`);
    expect(snmpTrap(sampleTrapEvent(), other).trapOid).toBe(`${other}.0.1`);
  });
});
