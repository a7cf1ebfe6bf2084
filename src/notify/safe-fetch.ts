// Outbound HTTP for notifications: a timeout on every call, no redirects to
// elsewhere, and no requests to private, loopback or link-local addresses
// unless the operator allows them ([notify] allow_private_networks) — a
// tenant must not be able to make Pulse call into its own network (SSRF).

import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { DeliveryError } from "./channel.ts";

export type SafeFetch = (url: string, init: RequestInit & { timeoutMs?: number }) => Promise<Response>;

export function createSafeFetch(opts: { allowPrivate: boolean; timeoutMs: number }): SafeFetch {
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

async function refusePrivate(hostname: string): Promise<void> {
  const host = hostname.replace(/^\[|\]$/g, "");
  let addresses: string[];
  if (isIP(host)) addresses = [host];
  else {
    try {
      addresses = (await lookup(host, { all: true })).map((a) => a.address);
    } catch (err) {
      throw new DeliveryError(`cannot resolve ${host}`, { permanent: false, cause: err });
    }
  }
  const bad = addresses.find(isPrivateAddress);
  if (bad) throw new DeliveryError(`${host} resolves to a private address (${bad}); an operator can allow this with [notify] allow_private_networks`, { permanent: true });
}

/** Loopback, private, link-local, carrier-grade NAT, unspecified, multicast (IPv4 and IPv6). */
export function isPrivateAddress(ip: string): boolean {
  if (isIP(ip) === 4) {
    const [a, b] = ip.split(".").map(Number) as [number, number];
    return a === 10 || a === 127 || a === 0 || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127) || a >= 224;
  }
  const v = ip.toLowerCase();
  if (v === "::1" || v === "::") return true;
  if (v.startsWith("::ffff:")) return isPrivateAddress(v.slice(7));
  return /^(fc|fd|fe8|fe9|fea|feb|ff)/.test(v);
}
