// Outbound HTTP for notifications: a timeout on every call, no redirects to
// elsewhere, and no requests to private, loopback or link-local addresses
// unless the operator allows them ([notify] allow_private_networks) — a
// tenant must not be able to make Pulse call into its own network (SSRF).

import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { DeliveryError } from "./channel.ts";

export type SafeFetch = (url: string, init: RequestInit & { timeoutMs?: number }) => Promise<Response>;

/** The config key that allows private addresses, named in refusals. */
const NOTIFY_SETTING = "[notify] allow_private_networks";

export function createSafeFetch(opts: { allowPrivate: boolean; timeoutMs: number; setting?: string }): SafeFetch {
  const refusePrivate = createHostGuard({ allowPrivate: false, setting: opts.setting });
  return async (url, init) => {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw new DeliveryError("not a valid URL", { permanent: true });
    }
    if (u.protocol !== "https:" && u.protocol !== "http:") throw new DeliveryError(`${u.protocol} URLs are not allowed`, { permanent: true });
    if (!opts.allowPrivate) await refusePrivate(u.hostname);
    try {
      return await fetch(u, { ...init, redirect: "manual", signal: AbortSignal.timeout(init.timeoutMs ?? opts.timeoutMs) });
    } catch (err) {
      const timeout = (err as Error).name === "TimeoutError" || (err as Error).name === "AbortError";
      throw new DeliveryError(timeout ? `no answer within ${init.timeoutMs ?? opts.timeoutMs} ms` : `cannot connect: ${(err as Error).message}`, { permanent: false, cause: err });
    }
  };
}

/**
 * The same guard for channels that do not speak HTTP (SMTP, SNMP, MQTT):
 * resolve the host, refuse private addresses unless allowed, and return the
 * address to connect to (so a second lookup cannot answer differently).
 */
export function createHostGuard(opts: { allowPrivate: boolean; setting?: string }): (host: string) => Promise<string> {
  return async (hostname) => {
    const host = hostname.replace(/^\[|\]$/g, "");
    if (!host) throw new DeliveryError("no host given", { permanent: true });
    const addresses = await resolveAll(host);
    if (!opts.allowPrivate) {
      const bad = addresses.find(isPrivateAddress);
      if (bad) throw new DeliveryError(`${host} resolves to a private address (${bad}); an operator can allow this with ${opts.setting ?? NOTIFY_SETTING}`, { permanent: true });
    }
    return addresses[0]!;
  };
}

async function resolveAll(host: string): Promise<string[]> {
  if (isIP(host)) return [host];
  try {
    return (await lookup(host, { all: true })).map((a) => a.address);
  } catch (err) {
    throw new DeliveryError(`cannot resolve ${host}`, { permanent: false, cause: err });
  }
}

/** Loopback, private, link-local, carrier-grade NAT, unspecified, multicast (IPv4 and IPv6, IPv4 inside IPv6 too). */
export function isPrivateAddress(ip: string): boolean {
  if (isIP(ip) === 4) {
    const [a, b] = ip.split(".").map(Number) as [number, number];
    return a === 10 || a === 127 || a === 0 || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127) || a >= 224;
  }
  const h = ipv6Hextets(ip);
  if (!h) return true; // not an address we understand: refuse rather than guess
  const v4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  const zero = (from: number, to: number) => h.slice(from, to).every((x) => x === 0);
  // ::, ::1, ::a.b.c.d (compatible), ::ffff:a.b.c.d (mapped), 64:ff9b::a.b.c.d (NAT64), 2002:aabb:ccdd:: (6to4).
  if (zero(0, 8) || (zero(0, 7) && h[7] === 1)) return true;
  if (zero(0, 6) || (zero(0, 5) && h[5] === 0xffff)) return isPrivateAddress(v4(h[6]!, h[7]!));
  if (h[0] === 0x64 && h[1] === 0xff9b && zero(2, 6)) return isPrivateAddress(v4(h[6]!, h[7]!));
  if (h[0] === 0x2002) return isPrivateAddress(v4(h[1]!, h[2]!));
  // fc00::/7 unique local, fe80::/10 link-local, fec0::/10 site-local, ff00::/8 multicast.
  return (h[0]! & 0xfe00) === 0xfc00 || (h[0]! & 0xffc0) === 0xfe80 || (h[0]! & 0xffc0) === 0xfec0 || (h[0]! & 0xff00) === 0xff00;
}

/** The eight 16-bit groups of an IPv6 address (with an optional dotted IPv4 tail), or undefined. */
function ipv6Hextets(ip: string): number[] | undefined {
  let v = ip.toLowerCase().replace(/%.*$/, "");
  if (isIP(v) !== 6) return undefined;
  const tail = v.match(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/);
  if (tail) {
    const [a, b, c, d] = tail.slice(1).map(Number) as [number, number, number, number];
    v = v.slice(0, tail.index) + ((a << 8) | b).toString(16) + ":" + ((c << 8) | d).toString(16);
  }
  const [head, rest] = v.split("::") as [string, string | undefined];
  const left = head ? head.split(":") : [];
  const right = rest === undefined ? [] : rest ? rest.split(":") : [];
  const fill = rest === undefined ? [] : Array(8 - left.length - right.length).fill("0");
  const groups = [...left, ...fill, ...right].map((g) => parseInt(g, 16));
  return groups.length === 8 && groups.every((g) => g >= 0 && g <= 0xffff) ? groups : undefined;
}
