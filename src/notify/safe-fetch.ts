// Outbound HTTP for notifications: a timeout on every call, no redirects to
// elsewhere, and no requests to private, loopback or link-local addresses
// unless the operator allows them ([notify] allow_private_networks) — a
// tenant must not be able to make Pulse call into its own network (SSRF).
//
// The host is resolved once, checked, and the request is sent to that very
// address (the Host header, TLS server name and certificate check still use
// the name). Letting fetch resolve the name again allowed DNS rebinding: a
// name that answers a public address to the check and 127.0.0.1 a moment
// later to the connection.

import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { checkServerIdentity, type PeerCertificate } from "node:tls";
import { DeliveryError } from "./channel.ts";

export type SafeFetch = (url: string, init: RequestInit & { timeoutMs?: number }) => Promise<Response>;

/** Every address a host name resolves to. */
export type Resolve = (host: string) => Promise<string[]>;

/** The config key that allows private addresses, named in refusals. */
const NOTIFY_SETTING = "[notify] allow_private_networks";

/**
 * The request to send for `url` once its host is resolved to `address`: the
 * URL with the address in place of the name, the original Host header, and for
 * HTTPS the name as TLS server name and as the name the certificate must hold.
 * An address in the URL already is sent as it is.
 */
export function pinnedRequest(url: URL, address: string, init: RequestInit): { url: URL; init: RequestInit } {
  const host = url.hostname.replace(/^\[|\]$/g, "");
  if (isIP(host)) return { url, init };
  const pinned = new URL(url);
  pinned.hostname = isIP(address) === 6 ? `[${address}]` : address;
  const headers = new Headers(init.headers);
  headers.set("host", url.host);
  const tls = url.protocol === "https:" ? { serverName: host, checkServerIdentity: (_address: string, cert: PeerCertificate) => checkServerIdentity(host, cert) } : undefined;
  return { url: pinned, init: { ...init, headers, ...(tls ? { tls } : {}) } as RequestInit };
}

export function createSafeFetch(opts: { allowPrivate: boolean; timeoutMs: number; setting?: string; resolve?: Resolve }): SafeFetch {
  const addressesOf = checkedAddresses({ allowPrivate: opts.allowPrivate, setting: opts.setting, resolve: opts.resolve });
  return async (url, init) => {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw new DeliveryError("not a valid URL", { permanent: true });
    }
    if (u.protocol !== "https:" && u.protocol !== "http:") throw new DeliveryError(`${u.protocol} URLs are not allowed`, { permanent: true });
    const addresses = await addressesOf(u.hostname);
    const signal = AbortSignal.timeout(init.timeoutMs ?? opts.timeoutMs);
    // Each checked address in turn while they refuse the connection (a name may
    // answer ::1 and 127.0.0.1 with the receiver on one of them), within one timeout.
    for (let i = 0; ; i++) {
      const request = pinnedRequest(u, addresses[i]!, init);
      try {
        return await fetch(request.url, { ...request.init, redirect: "manual", signal });
      } catch (err) {
        const timeout = (err as Error).name === "TimeoutError" || (err as Error).name === "AbortError";
        if (!timeout && i + 1 < addresses.length) continue;
        throw new DeliveryError(timeout ? `no answer within ${init.timeoutMs ?? opts.timeoutMs} ms` : `cannot connect: ${(err as Error).message}`, { permanent: false, cause: err });
      }
    }
  };
}

/**
 * The same guard for channels that do not speak HTTP (SMTP, SNMP, MQTT):
 * resolve the host, refuse private addresses unless allowed, and return the
 * address to connect to (so a second lookup cannot answer differently).
 */
export function createHostGuard(opts: { allowPrivate: boolean; setting?: string; resolve?: Resolve }): (host: string) => Promise<string> {
  const addressesOf = checkedAddresses(opts);
  return async (hostname) => (await addressesOf(hostname))[0]!;
}

/** Every address the host resolves to, all of them checked: one private address refuses the host. */
function checkedAddresses(opts: { allowPrivate: boolean; setting?: string; resolve?: Resolve }): (host: string) => Promise<string[]> {
  const resolve = opts.resolve ?? lookupAll;
  return async (hostname) => {
    const host = hostname.replace(/^\[|\]$/g, "");
    if (!host) throw new DeliveryError("no host given", { permanent: true });
    const addresses = await resolveAll(host, resolve);
    if (!opts.allowPrivate) {
      const bad = addresses.find(isPrivateAddress);
      if (bad) throw new DeliveryError(`${host} resolves to a private address (${bad}); an operator can allow this with ${opts.setting ?? NOTIFY_SETTING}`, { permanent: true });
    }
    return addresses;
  };
}

async function lookupAll(host: string): Promise<string[]> {
  return (await lookup(host, { all: true })).map((a) => a.address);
}

async function resolveAll(host: string, resolve: Resolve): Promise<string[]> {
  if (isIP(host)) return [host];
  let addresses: string[];
  try {
    addresses = await resolve(host);
  } catch (err) {
    throw new DeliveryError(`cannot resolve ${host}`, { permanent: false, cause: err });
  }
  if (!addresses.length) throw new DeliveryError(`cannot resolve ${host}`, { permanent: false });
  return addresses;
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
