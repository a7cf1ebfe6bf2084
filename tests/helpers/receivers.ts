// Real peers on loopback that notification channels deliver to: an HTTP
// receiver with scripted answers (Standard Webhooks verified with the
// `standardwebhooks` package), an SMTP server (smtp-server) with a small MIME
// reader, SNMP trap receivers (net-snmp's and Debian's snmptrapd), and a
// stand-alone MQTT broker (aedes) to play an external one.

import { Aedes } from "aedes";
import { spawn, type ChildProcess } from "node:child_process";
import dgram from "node:dgram";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import net from "node:net";
import * as snmp from "net-snmp";
import { SMTPServer } from "smtp-server";
import { Webhook } from "standardwebhooks";
import { tempDir } from "./databases.ts";

// --- HTTP ---------------------------------------------------------------------

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  at: number;
}

/** What the receiver answers next: a status (with headers/body), or hang (never answer). */
export type Answer = number | { status: number; headers?: Record<string, string>; body?: string } | "hang";

export interface HttpReceiver {
  port: number;
  url(path?: string): string;
  requests: ReceivedRequest[];
  /** Requests to one path. */
  at(path: string): ReceivedRequest[];
  /** Queue answers for a path (after they run out: 200, or the path's default). */
  script(path: string, ...answers: Answer[]): void;
  /** What a path answers once its script is used up. */
  otherwise(path: string, answer: Answer): void;
  /** Wait until a path has received n requests. */
  waitFor(path: string, n: number, timeoutMs?: number): Promise<ReceivedRequest[]>;
  stop(): void;
}

export function startHttpReceiver(): HttpReceiver {
  const requests: ReceivedRequest[] = [];
  const scripts = new Map<string, Answer[]>();
  const defaults = new Map<string, Answer>();
  const hung: Array<() => void> = [];
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    idleTimeout: 0,
    fetch: async (req) => {
      const path = new URL(req.url).pathname;
      requests.push({ method: req.method, path, headers: Object.fromEntries(req.headers), body: await req.text(), at: Date.now() });
      const answer = scripts.get(path)?.shift() ?? defaults.get(path) ?? 200;
      if (answer === "hang") return new Promise<Response>((resolve) => hung.push(() => resolve(new Response("late", { status: 200 }))));
      const a = typeof answer === "number" ? { status: answer } : answer;
      return new Response(a.body ?? (a.status < 300 ? "ok" : "no"), { status: a.status, headers: a.headers });
    },
  });
  const at = (path: string) => requests.filter((r) => r.path === path);
  return {
    port: server.port!,
    url: (path = "/") => `http://127.0.0.1:${server.port}${path}`,
    requests,
    at,
    script: (path, ...answers) => scripts.set(path, [...(scripts.get(path) ?? []), ...answers]),
    otherwise: (path, answer) => defaults.set(path, answer),
    waitFor: async (path, n, timeoutMs = 10_000) => {
      const until = Date.now() + timeoutMs;
      while (at(path).length < n) {
        if (Date.now() > until) throw new Error(`receiver: ${path} got ${at(path).length} of ${n} requests`);
        await Bun.sleep(20);
      }
      return at(path);
    },
    stop: () => {
      for (const h of hung) h();
      server.stop(true);
    },
  };
}

/** Verify a request's Standard Webhooks signature; returns the parsed body or throws. */
export function verifyWebhook(secret: string, r: ReceivedRequest): { type: string; timestamp: string; data: Record<string, any> } {
  return new Webhook(secret).verify(r.body, { "webhook-id": r.headers["webhook-id"]!, "webhook-timestamp": r.headers["webhook-timestamp"]!, "webhook-signature": r.headers["webhook-signature"]! }) as never;
}

// --- SMTP ---------------------------------------------------------------------

export interface MimePart {
  headers: Record<string, string>;
  body: string;
  parts: MimePart[];
}

export interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
  message: MimePart;
  /** A header of the top part, decoded (RFC 2047). */
  header(name: string): string | undefined;
  /** The decoded body of the first part with this content type. */
  part(contentType: string): string | undefined;
}

export interface SmtpReceiver {
  port: number;
  mails: ReceivedMail[];
  /** The next RCPT TO answers with this SMTP code (e.g. 550, 451); then normal again. */
  refuseNext(code: number, times?: number): void;
  waitFor(n: number, timeoutMs?: number): Promise<ReceivedMail[]>;
  stop(): Promise<void>;
}

export async function startSmtpServer(): Promise<SmtpReceiver> {
  const mails: ReceivedMail[] = [];
  const refusals: number[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    onRcptTo(_address, _session, cb) {
      const code = refusals.shift();
      if (code) return cb(Object.assign(new Error(code >= 500 ? "mailbox unavailable" : "try again later"), { responseCode: code }));
      cb();
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        const raw = Buffer.concat(chunks).toString("utf8");
        const message = parseMime(raw);
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((r) => r.address),
          raw,
          message,
          header: (n) => (message.headers[n.toLowerCase()] === undefined ? undefined : decodeWords(message.headers[n.toLowerCase()]!)),
          part: (t) => findPart(message, t),
        });
        cb();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const port = (server.server.address() as net.AddressInfo).port;
  return {
    port,
    mails,
    refuseNext: (code, times = 1) => refusals.push(...Array(times).fill(code)),
    waitFor: async (n, timeoutMs = 10_000) => {
      const until = Date.now() + timeoutMs;
      while (mails.length < n) {
        if (Date.now() > until) throw new Error(`smtp: got ${mails.length} of ${n} mails`);
        await Bun.sleep(20);
      }
      return mails;
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function parseHeaders(block: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of block.replace(/\r\n/g, "\n").replace(/\n[ \t]+/g, " ").split("\n")) {
    const i = line.indexOf(":");
    if (i > 0) out[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return out;
}

/** A MIME message as a tree of parts (multipart bodies split on their boundary). */
export function parseMime(raw: string): MimePart {
  const text = raw.replace(/\r\n/g, "\n");
  const split = text.indexOf("\n\n");
  const headers = parseHeaders(split < 0 ? text : text.slice(0, split));
  const body = split < 0 ? "" : text.slice(split + 2);
  const boundary = headers["content-type"]?.match(/boundary="?([^";]+)"?/i)?.[1];
  if (!boundary || !/^multipart\//i.test(headers["content-type"] ?? "")) return { headers, body, parts: [] };
  const pieces = body.split(`--${boundary}`).slice(1);
  const parts = pieces.filter((p) => !p.startsWith("--")).map((p) => parseMime(p.replace(/^\n/, "")));
  return { headers, body, parts };
}

function findPart(p: MimePart, contentType: string): string | undefined {
  if ((p.headers["content-type"] ?? "text/plain").toLowerCase().startsWith(contentType)) return decodeBody(p);
  for (const c of p.parts) {
    const found = findPart(c, contentType);
    if (found !== undefined) return found;
  }
  return undefined;
}

function decodeBody(p: MimePart): string {
  const enc = (p.headers["content-transfer-encoding"] ?? "7bit").toLowerCase();
  if (enc === "base64") return Buffer.from(p.body.replace(/\s+/g, ""), "base64").toString("utf8");
  if (enc === "quoted-printable") return decodeQp(p.body);
  return p.body;
}

function decodeQp(s: string): string {
  const soft = s.replace(/=\n/g, "");
  const bytes: number[] = [];
  for (let i = 0; i < soft.length; i++) {
    if (soft[i] === "=" && /^[0-9A-F]{2}$/i.test(soft.slice(i + 1, i + 3))) {
      bytes.push(parseInt(soft.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(...Buffer.from(soft[i]!, "utf8"));
  }
  return Buffer.from(bytes).toString("utf8");
}

/** RFC 2047 encoded words (=?UTF-8?Q?…?= and =?UTF-8?B?…?=). */
function decodeWords(s: string): string {
  return s
    .replace(/\?=\s+=\?/g, "?==?")
    .replace(/=\?([^?]+)\?([QB])\?([^?]*)\?=/gi, (_, _cs, enc: string, data: string) =>
      enc.toUpperCase() === "B" ? Buffer.from(data, "base64").toString("utf8") : decodeQp(data.replace(/_/g, " ")),
    );
}

// --- SNMP ---------------------------------------------------------------------

/** A UDP port that was free a moment ago. */
export async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket("udp4");
  await new Promise<void>((resolve) => s.bind(0, "127.0.0.1", () => resolve()));
  const port = s.address().port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

export interface TrapReceiver {
  port: number;
  traps: snmp.Notification[];
  /** Rejected packets (wrong community, bad v3 keys). */
  errors: Error[];
  waitFor(n: number, timeoutMs?: number): Promise<snmp.Notification[]>;
  stop(): Promise<void>;
}

/** net-snmp's notification receiver, accepting one community and/or one v3 user. */
export async function startTrapReceiver(opts: { community?: string; user?: snmp.User }): Promise<TrapReceiver> {
  const port = await freeUdpPort();
  const traps: snmp.Notification[] = [];
  const errors: Error[] = [];
  const receiver = snmp.createReceiver({ port, address: "127.0.0.1", transport: "udp4", disableAuthorization: false }, (err, n) => {
    if (err) errors.push(err);
    else if (n) traps.push(n);
  });
  if (opts.community) receiver.getAuthorizer().addCommunity(opts.community);
  if (opts.user) receiver.getAuthorizer().addUser(opts.user);
  return {
    port,
    traps,
    errors,
    waitFor: async (n, timeoutMs = 10_000) => {
      const until = Date.now() + timeoutMs;
      while (traps.length < n) {
        if (Date.now() > until) throw new Error(`snmp: got ${traps.length} of ${n} traps (errors: ${errors.map((e) => e.message).join("; ")})`);
        await Bun.sleep(20);
      }
      return traps;
    },
    stop: () => new Promise<void>((resolve) => receiver.close(() => resolve())),
  };
}

export const SNMPTRAPD = ["/usr/sbin/snmptrapd", "/usr/bin/snmptrapd"].find((p) => existsSync(p));

export interface DecodedTrap {
  /** OID (numeric, no leading dot) → value as text (strings decoded from hex). */
  varbinds: Map<string, string>;
}

export interface Snmptrapd {
  port: number;
  traps: DecodedTrap[];
  output(): string;
  waitFor(n: number, timeoutMs?: number): Promise<DecodedTrap[]>;
  stop(): Promise<void>;
}

/** Debian's snmptrapd, logging numeric OIDs to stdout; v2c community and/or one v3 user bound to an engine id. */
export async function startSnmptrapd(opts: { community?: string; v3?: { engineId: string; user: string; authKey: string; privKey: string; auth?: "SHA" | "SHA-256" } }): Promise<Snmptrapd> {
  if (!SNMPTRAPD) throw new Error("snmptrapd is not installed");
  const port = await freeUdpPort();
  const dir = tempDir();
  const conf = [
    opts.community ? `authCommunity log ${opts.community}` : "",
    opts.v3 ? `createUser -e 0x${opts.v3.engineId} ${opts.v3.user} ${opts.v3.auth ?? "SHA"} "${opts.v3.authKey}" AES "${opts.v3.privKey}"` : "",
    opts.v3 ? `authUser log ${opts.v3.user}` : "",
  ].join("\n");
  writeFileSync(`${dir}/snmptrapd.conf`, conf + "\n");
  mkdirSync(`${dir}/persist`, { recursive: true });
  let out = "";
  const child: ChildProcess = spawn(SNMPTRAPD, ["-f", "-Lo", "-On", "-C", "-c", `${dir}/snmptrapd.conf`, "-m", "", "-M", dir, `udp:127.0.0.1:${port}`], {
    env: { ...process.env, SNMP_PERSISTENT_DIR: `${dir}/persist`, SNMPCONFPATH: dir },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const until = Date.now() + 10_000;
  while (!out.includes("NET-SNMP version")) {
    if (Date.now() > until || child.exitCode !== null) throw new Error(`snmptrapd did not start: ${out}`);
    await Bun.sleep(20);
  }
  const traps = (): DecodedTrap[] =>
    out
      .split("\n")
      .filter((l) => l.startsWith(".1.3.6.1.2.1.1.3.0 = "))
      .map((line) => ({ varbinds: new Map(line.split("\t").filter(Boolean).map(decodeVarbind)) }));
  return {
    port,
    get traps() {
      return traps();
    },
    output: () => out,
    waitFor: async (n, timeoutMs = 10_000) => {
      const end = Date.now() + timeoutMs;
      while (traps().length < n) {
        if (Date.now() > end) throw new Error(`snmptrapd: got ${traps().length} of ${n} traps:\n${out}`);
        await Bun.sleep(20);
      }
      return traps();
    },
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        await exited;
      }
    },
  };
}

function decodeVarbind(s: string): [string, string] {
  const m = s.match(/^\.?([\d.]+) = (?:([\w-]+): )?(.*)$/);
  if (!m) return [s, ""];
  const [, oid, type, value] = m as unknown as [string, string, string | undefined, string];
  let v = value.trim();
  if (type === "Hex-STRING") v = Buffer.from(v.replace(/\s+/g, ""), "hex").toString("utf8");
  else if (type === "STRING") v = v.replace(/^"|"$/g, "");
  else if (type === "OID") v = v.replace(/^\./, "");
  return [oid, v];
}

// --- MQTT ---------------------------------------------------------------------

export interface MqttBroker {
  port: number;
  url: string;
  stop(): Promise<void>;
}

/** A stand-alone MQTT broker on loopback playing an "external" one; optional username/password. */
export async function startMqttBroker(auth?: { username: string; password: string }): Promise<MqttBroker> {
  const aedes = await Aedes.createBroker();
  if (auth) {
    aedes.authenticate = (_client, username, password, done) => {
      const ok = username === auth.username && password?.toString() === auth.password;
      done(ok ? null : Object.assign(new Error("bad user name or password"), { returnCode: 4 as const }), ok);
    };
  }
  const server = net.createServer(aedes.handle);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    stop: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
    },
  };
}
