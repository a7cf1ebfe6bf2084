// SNMP traps (net-snmp) for network management systems: v2c with a community,
// or v3 authPriv (SHA or SHA-256, AES-128) from this installation's stable
// engine id, which the receiver needs (`createUser -e <engine id> …` in
// snmptrapd). The PDU is sysUpTime.0, snmpTrapOID.0, then Pulse's objects; the
// OIDs hang under [notify] snmp_enterprise_oid and match docs/PULSE-MIB.txt
// (served at GET /api/v1/notification-channels/snmp/mib):
//   <prefix>.0.1 pulseAlertFiring   .0.2 pulseAlertResolved
//   <prefix>.0.3 pulseAlertAcknowledged   .0.4 pulseTestNotification
//   <prefix>.1.<n>.0 objects: 1 alert id, 2 tenant, 3 device, 4 site,
//   5 severity (1 critical … 5 info), 6 type, 7 summary, 8 value, 9 URL, 10 notification id
// A trap is fire-and-forget UDP: sent is success.

import * as snmp from "net-snmp";
import mib from "../../../docs/PULSE-MIB.txt" with { type: "text" };
import { isIP } from "node:net";
import { invalid } from "../../lib/errors.ts";
import { DeliveryError, type ChannelType, type NotificationEvent, type SendContext } from "../channel.ts";
import { clipBytes, intSetting, oneOf, requiredText, stateOf, valueText } from "./common.ts";

export const SNMP_DEFAULT_ENTERPRISE_OID = "1.3.6.1.4.1.59999.1";

export interface SnmpConfig {
  version: "2c" | "3";
  host: string;
  port: number;
  /** v3 only. */
  user: string | null;
  authProtocol: "sha" | "sha256" | null;
  privProtocol: "aes" | null;
}

export interface SnmpSecrets {
  community?: string;
  authKey?: string;
  privKey?: string;
}

/** The notification OID for an event and the objects that go with it. */
export function snmpTrap(e: NotificationEvent, prefix: string): { trapOid: string; varbinds: snmp.Varbind[] } {
  const a = e.alert;
  const state = stateOf(e);
  const trap = { FIRING: 1, RESOLVED: 2, ACKNOWLEDGED: 3, TEST: 4 }[state];
  const text = (n: number, v: string) => ({ oid: `${prefix}.1.${n}.0`, type: snmp.ObjectType.OctetString!, value: clipBytes(v, 255) });
  return {
    trapOid: `${prefix}.0.${trap}`,
    varbinds: [
      text(1, a.id),
      text(2, e.tenant.id),
      text(3, a.device_id),
      text(4, a.site_id ?? ""),
      { oid: `${prefix}.1.5.0`, type: snmp.ObjectType.Integer!, value: a.severity_level },
      text(6, a.type),
      text(7, a.summary),
      text(8, valueText(a.value)),
      text(9, a.url),
      text(10, e.id),
    ],
  };
}

/** docs/PULSE-MIB.txt with its OIDs moved under another prefix (1.3.6.1.4.1.<enterprise>.<arc>…). */
export function pulseMib(prefix: string = SNMP_DEFAULT_ENTERPRISE_OID): string {
  if (prefix === SNMP_DEFAULT_ENTERPRISE_OID) return mib;
  const [enterprise, ...arcs] = prefix.replace(/^1\.3\.6\.1\.4\.1\./, "").split(".");
  // One named node per arc below the enterprise: SMIv2 wants { parent number }.
  const chain = arcs.map((arc, i) => `${i === arcs.length - 1 ? "pulseAlerting" : `pulseArc${i + 1}`} OBJECT IDENTIFIER ::= { ${i === 0 ? "pulse" : `pulseArc${i}`} ${arc} }`);
  return mib
    .replace("::= { enterprises 59999 }", `::= { enterprises ${enterprise} }`)
    .replace("pulseAlerting OBJECT IDENTIFIER ::= { pulse 1 }", chain.join("\n"))
    .replace('snmp_enterprise_oid = "1.3.6.1.4.1.59999.1" (the default)', `snmp_enterprise_oid = "${prefix}"`);
}

const HOST = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$|^\[?[0-9A-Fa-f:.]+\]?$/;

function secretText(v: unknown, field: string, min: number, max: number): string {
  if (typeof v !== "string" || v.length < min || v.length > max || /[\r\n\u0000]/.test(v)) throw invalid(field, `${field}: ${min} to ${max} characters`);
  return v;
}

function sessionFor(config: SnmpConfig, secrets: SnmpSecrets, address: string, ctx: SendContext): snmp.Session {
  const key = `snmp:${JSON.stringify([config, address, ctx.snmpEngineId, new Bun.CryptoHasher("sha256").update(JSON.stringify(secrets)).digest("hex")])}`;
  const cached = ctx.cache.get(key) as snmp.Session | undefined;
  if (cached) return cached;
  const options: snmp.SessionOptions = { trapPort: config.port, transport: isIP(address) === 6 ? "udp6" : "udp4" };
  const session =
    config.version === "2c"
      ? snmp.createSession(address, secrets.community ?? "public", { ...options, version: snmp.Version2c })
      : snmp.createV3Session(
          address,
          {
            name: config.user!,
            level: snmp.SecurityLevel.authPriv,
            authProtocol: config.authProtocol === "sha256" ? snmp.AuthProtocols.sha256 : snmp.AuthProtocols.sha,
            authKey: secrets.authKey,
            privProtocol: snmp.PrivProtocols.aes,
            privKey: secrets.privKey,
          },
          { ...options, version: snmp.Version3, engineID: ctx.snmpEngineId },
        );
  // A socket error (e.g. ICMP unreachable) must not crash the process: drop the session, the next send opens another.
  session.on("error", (err) => {
    ctx.log.warn("notify: snmp session error", { error: err.message });
    ctx.cache.delete(key);
    try {
      session.close();
    } catch {
      // already closed
    }
  });
  ctx.cache.set(key, session);
  return session;
}

export const snmpChannel: ChannelType<SnmpConfig, SnmpSecrets> = {
  type: "snmp",
  secretFields: ["community", "auth_key", "priv_key"],
  validate(input) {
    const version = oneOf(String(input.version ?? "2c"), "version", ["2c", "3"] as const, "2c");
    const host = requiredText(input.host, "host", 253);
    if (!HOST.test(host)) throw invalid("host", "host: the trap receiver's host name or address");
    const port = intSetting(input.port, "port", 1, 65535, 162);
    if (version === "2c") {
      const community = secretText(input.community ?? "", "community", 1, 64);
      return { config: { version, host, port, user: null, authProtocol: null, privProtocol: null }, secrets: { community } };
    }
    const user = requiredText(input.user, "user", 32);
    const authProtocol = oneOf(input.auth_protocol, "auth_protocol", ["sha", "sha256"] as const, "sha");
    oneOf(input.priv_protocol, "priv_protocol", ["aes"] as const, "aes");
    const authKey = secretText(input.auth_key ?? "", "auth_key", 8, 128);
    const privKey = secretText(input.priv_key ?? "", "priv_key", 8, 128);
    return { config: { version, host, port, user, authProtocol, privProtocol: "aes" }, secrets: { authKey, privKey } };
  },
  settingsOf(config, secrets) {
    return {
      version: config.version,
      host: config.host,
      port: config.port,
      community: secrets.community,
      user: config.user ?? undefined,
      auth_protocol: config.authProtocol ?? undefined,
      auth_key: secrets.authKey,
      priv_protocol: config.privProtocol ?? undefined,
      priv_key: secrets.privKey,
    };
  },
  describe(config, ctx) {
    const prefix = ctx.snmpEnterpriseOid ?? SNMP_DEFAULT_ENTERPRISE_OID;
    return {
      ...(config.version === "3" ? { engine_id: ctx.snmpEngineId ?? null } : {}),
      enterprise_oid: prefix,
      trap_oids: { firing: `${prefix}.0.1`, resolved: `${prefix}.0.2`, acknowledged: `${prefix}.0.3`, test: `${prefix}.0.4` },
      mib: "/api/v1/notification-channels/snmp/mib",
    };
  },
  preview(event, config, ctx) {
    const prefix = ctx?.snmpEnterpriseOid ?? SNMP_DEFAULT_ENTERPRISE_OID;
    const { trapOid, varbinds } = snmpTrap(event, prefix);
    const lines = [
      `SNMPv${config.version} trap to ${config.host}:${config.port}${config.version === "3" ? ` as ${config.user} (authPriv ${config.authProtocol?.toUpperCase()}/AES, engine id ${ctx?.snmpEngineId ?? "?"})` : ""}`,
      `1.3.6.1.2.1.1.3.0 (sysUpTime.0) = TimeTicks`,
      `1.3.6.1.6.3.1.1.4.1.0 (snmpTrapOID.0) = OID ${trapOid}`,
      ...varbinds.map((v) => `${v.oid} = ${v.type === snmp.ObjectType.Integer ? "INTEGER" : "STRING"} ${JSON.stringify(v.value)}`),
    ];
    return { contentType: "text/plain", body: lines.join("\n") };
  },
  async send(event, config, secrets, ctx) {
    const address = await ctx.guardHost(config.host);
    if (config.version === "3" && !ctx.snmpEngineId) throw new DeliveryError("snmp: this installation has no SNMP engine id", { permanent: false });
    const { trapOid, varbinds } = snmpTrap(event, ctx.snmpEnterpriseOid ?? SNMP_DEFAULT_ENTERPRISE_OID);
    const session = sessionFor(config, secrets, address, ctx);
    await new Promise<void>((resolve, reject) =>
      session.trap(trapOid, varbinds, {}, (err) => (err ? reject(new DeliveryError(`snmp: cannot send the trap: ${err.message}`, { permanent: false, cause: err })) : resolve())),
    );
    return { response: `trap ${trapOid} sent to ${config.host}:${config.port}` };
  },
};
