// A self-signed certificate for the MQTT TLS listener when none is
// configured: ECDSA P-256, built with WebCrypto and a little DER, so the
// binary needs no openssl. Generated once into data_dir and reused; its
// SHA-256 fingerprint is printed so devices can pin it.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface CertPair {
  cert: string;
  key: string;
  fingerprint: string;
  generated: boolean;
}

/** The certificate in data_dir/tls, made on first use. */
export async function ensureSelfSigned(dataDir: string, hosts: string[] = ["localhost"]): Promise<CertPair> {
  const dir = join(dataDir, "tls");
  const certPath = join(dir, "mqtt-selfsigned.crt");
  const keyPath = join(dir, "mqtt-selfsigned.key");
  if (existsSync(certPath) && existsSync(keyPath)) {
    const cert = readFileSync(certPath, "utf8");
    return { cert, key: readFileSync(keyPath, "utf8"), fingerprint: fingerprintOf(cert), generated: false };
  }
  const { cert, key } = await selfSigned(hosts);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(keyPath, key, { mode: 0o600 });
  writeFileSync(certPath, cert, { mode: 0o644 });
  return { cert, key, fingerprint: fingerprintOf(cert), generated: true };
}

/** SHA-256 fingerprint of a PEM certificate, as AA:BB:…. */
export function fingerprintOf(pem: string): string {
  const der = Buffer.from(pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, ""), "base64");
  return new Bun.CryptoHasher("sha256").update(der).digest("hex").toUpperCase().match(/../g)!.join(":");
}

/** A fresh key pair and a 10-year self-signed certificate for the given host names and IPs. */
export async function selfSigned(hosts: string[]): Promise<{ cert: string; key: string }> {
  const pair = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as CryptoKeyPair;
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", pair.publicKey));
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", pair.privateKey));
  const now = Date.now();
  const ecdsaSha256 = seq(oid("1.2.840.10045.4.3.2"));
  const name = seq(set(seq(oid("2.5.4.3"), utf8("Pulse MQTT"))));
  const serial = crypto.getRandomValues(new Uint8Array(16));
  serial[0]! &= 0x7f; // positive
  const altNames = hosts.map((h) => (/^\d+\.\d+\.\d+\.\d+$/.test(h) ? tagged(0x87, new Uint8Array(h.split(".").map(Number))) : tagged(0x82, new TextEncoder().encode(h))));
  const extensions = tagged(
    0xa3,
    seq(
      seq(oid("2.5.29.17"), octets(seq(...altNames))),
      seq(oid("2.5.29.19"), bool(true), octets(seq())), // basicConstraints: not a CA
    ),
  );
  const tbs = seq(
    tagged(0xa0, int(new Uint8Array([2]))),
    int(serial),
    ecdsaSha256,
    name,
    seq(time(new Date(now - 3_600_000)), time(new Date(now + 10 * 365 * 86_400_000))),
    name,
    spki,
    extensions,
  );
  const raw = new Uint8Array(await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, pair.privateKey, tbs as Uint8Array<ArrayBuffer>));
  // WebCrypto signs as r||s; X.509 wants SEQUENCE { INTEGER r, INTEGER s }.
  const sig = seq(int(raw.slice(0, 32)), int(raw.slice(32)));
  const cert = seq(tbs, ecdsaSha256, bitString(sig));
  return { cert: pem("CERTIFICATE", cert), key: pem("PRIVATE KEY", pkcs8) };
}

function pem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString("base64").replace(/.{64}/g, "$&\n").trimEnd();
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

// Minimal DER.
function tlv(tag: number, body: Uint8Array): Uint8Array {
  const len = body.length;
  const head = len < 0x80 ? [tag, len] : len < 0x100 ? [tag, 0x81, len] : [tag, 0x82, len >> 8, len & 0xff];
  const out = new Uint8Array(head.length + len);
  out.set(head);
  out.set(body, head.length);
  return out;
}
const concat = (parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) out.set(p, (o += p.length) - p.length);
  return out;
};
const seq = (...parts: Uint8Array[]) => tlv(0x30, concat(parts));
const set = (...parts: Uint8Array[]) => tlv(0x31, concat(parts));
const tagged = (tag: number, body: Uint8Array) => tlv(tag, body);
const octets = (body: Uint8Array) => tlv(0x04, body);
const bool = (v: boolean) => tlv(0x01, new Uint8Array([v ? 0xff : 0]));
const utf8 = (s: string) => tlv(0x0c, new TextEncoder().encode(s));
const bitString = (body: Uint8Array) => tlv(0x03, concat([new Uint8Array([0]), body]));

function int(bytes: Uint8Array): Uint8Array {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  let b = bytes.slice(i);
  if (b[0]! & 0x80) b = concat([new Uint8Array([0]), b]);
  return tlv(0x02, b);
}

function oid(dotted: string): Uint8Array {
  const [a, b, ...rest] = dotted.split(".").map(Number) as [number, number, ...number[]];
  const out = [a * 40 + b];
  for (const n of rest) {
    const stack = [n & 0x7f];
    for (let v = n >> 7; v > 0; v >>= 7) stack.unshift((v & 0x7f) | 0x80);
    out.push(...stack);
  }
  return tlv(0x06, new Uint8Array(out));
}

function time(d: Date): Uint8Array {
  const iso = d.toISOString().replace(/[-:T]/g, "").slice(0, 14) + "Z";
  // UTCTime until 2049, GeneralizedTime after (RFC 5280 4.1.2.5).
  return d.getUTCFullYear() < 2050 ? tlv(0x17, new TextEncoder().encode(iso.slice(2))) : tlv(0x18, new TextEncoder().encode(iso));
}
