// Load generator process for the benchmarks: many MQTT 3.1.1 connections
// over Bun's raw sockets, with the few packets it needs (CONNECT, PUBLISH,
// PUBACK, PINGREQ) encoded by hand so the generator costs as little CPU as
// possible on a shared 2-core box. Controlled by its parent over IPC:
//   {cmd: "go"}            start publishing
//   {cmd: "rate", rate}    messages a second for this whole process (0 = as fast as the sockets allow)
//   {cmd: "mark"}          zero the counters and the latency histogram
//   {cmd: "report"}        answer {type: "report", sent, acked, errors, hist} since the mark
//   {cmd: "stop"}          close everything and exit
// Config comes as JSON in the file BENCH_CONFIG_FILE (or in BENCH_CONFIG), see `Config` below.
//
// QoS 1: at most `window` PUBLISHes without PUBACK per connection; Pulse
// sends PUBACK only after the message is committed, so publish→PUBACK is
// publish→commit. Writes respect socket backpressure: what the kernel does
// not take is kept and sent on drain, and nothing more is encoded meanwhile.

import type { Socket } from "bun";
import { bucketOf, HIST_SIZE, sampleMetrics } from "./common.ts";

interface Config {
  mode: "load" | "idle";
  host: string;
  port: number;
  tenant: string;
  /** Devices this process connects as (one connection each). Empty with `anonymous`. */
  devices: Array<{ id: string; token: string; index: number }>;
  /** idle mode: this many connections without credentials. */
  anonymous?: number;
  qos: 0 | 1;
  window: number;
  /** Messages a second for the whole process; 0 = as fast as possible. */
  rate: number;
  keepalive: number;
  connectConcurrency: number;
  clientPrefix: string;
}

const cfg = JSON.parse(process.env.BENCH_CONFIG_FILE ? await Bun.file(process.env.BENCH_CONFIG_FILE).text() : (process.env.BENCH_CONFIG ?? "{}")) as Config;
const send = (m: unknown) => process.send?.(m);

// ------------------------------------------------------------------ state

let sent = 0;
let acked = 0;
let errors = 0;
let hist = new Float64Array(HIST_SIZE);
let running = false;
let stopping = false;
let rate = cfg.rate;

const ID_SPACE = 4096;

interface Conn {
  n: number;
  socket?: Socket<Conn>;
  topic: Buffer;
  deviceIndex: number;
  seq: number;
  connected: boolean;
  closed: boolean;
  /** Bytes the kernel did not take yet; nothing new is encoded while set. */
  pending?: Uint8Array;
  inflight: number;
  nextId: number;
  sentAt: Float64Array;
  busy: Uint8Array;
  /** Messages this connection may still send under the rate (rate mode). */
  allowance: number;
  rx?: Uint8Array;
  onConnack?: (rc: number) => void;
}

const conns: Conn[] = [];

// ------------------------------------------------------------------ encoding

const scratch = Buffer.allocUnsafe(1 << 20);
const MAX_CHUNK = 256 * 1024;

function writeVarint(buf: Uint8Array, off: number, x: number): number {
  do {
    let b = x % 128;
    x = Math.floor(x / 128);
    if (x > 0) b |= 0x80;
    buf[off++] = b;
  } while (x > 0);
  return off;
}

function str(buf: Buffer, off: number, s: string | Uint8Array): number {
  const bytes = typeof s === "string" ? Buffer.from(s) : s;
  buf[off++] = bytes.length >> 8;
  buf[off++] = bytes.length & 255;
  buf.set(bytes, off);
  return off + bytes.length;
}

function connectPacket(clientId: string, username?: string, password?: string): Uint8Array {
  const body = Buffer.allocUnsafe(512);
  let o = str(body, 0, "MQTT");
  body[o++] = 4; // 3.1.1
  body[o++] = 0x02 | (username !== undefined ? 0x80 : 0) | (password !== undefined ? 0x40 : 0);
  body[o++] = cfg.keepalive >> 8;
  body[o++] = cfg.keepalive & 255;
  o = str(body, o, clientId);
  if (username !== undefined) o = str(body, o, username);
  if (password !== undefined) o = str(body, o, password);
  const out = Buffer.allocUnsafe(o + 5);
  out[0] = 0x10;
  const h = writeVarint(out, 1, o);
  body.copy(out, h, 0, o);
  return out.subarray(0, h + o);
}

function payloadOf(c: Conn): string {
  const seq = c.seq++;
  return `{"version":"1","ts":${Date.now() / 1000},"seq":${seq},"metrics":${sampleMetrics(c.deviceIndex, seq)}}`;
}

/** Encode one PUBLISH into scratch at off; returns the new offset. */
function encodePublish(c: Conn, off: number, now: number): number {
  const payload = payloadOf(c);
  const qos = cfg.qos;
  const rl = 2 + c.topic.length + (qos ? 2 : 0) + payload.length;
  scratch[off++] = 0x30 | (qos << 1);
  off = writeVarint(scratch, off, rl);
  scratch[off++] = c.topic.length >> 8;
  scratch[off++] = c.topic.length & 255;
  scratch.set(c.topic, off);
  off += c.topic.length;
  if (qos) {
    let id = c.nextId;
    while (c.busy[id]) id = (id % (ID_SPACE - 1)) + 1;
    c.nextId = (id % (ID_SPACE - 1)) + 1;
    c.busy[id] = 1;
    c.sentAt[id] = now;
    c.inflight++;
    scratch[off++] = id >> 8;
    scratch[off++] = id & 255;
  }
  off += scratch.write(payload, off, "latin1");
  sent++;
  return off;
}

/** Write bytes; keep what the kernel refused. True when all was taken. */
function write(c: Conn, bytes: Uint8Array): boolean {
  const s = c.socket;
  if (!s || c.closed) return false;
  const n = s.write(bytes);
  if (n < 0) return false;
  if (n < bytes.length) {
    c.pending = bytes.slice(n);
    return false;
  }
  return true;
}

/** Send what this connection may send now (up to one chunk); true if it could do more. */
function pump(c: Conn): boolean {
  if (!running || !c.connected || c.closed || c.pending) return false;
  const now = performance.now();
  let off = 0;
  let more = true;
  while (off < MAX_CHUNK) {
    if (cfg.qos && c.inflight >= cfg.window) {
      more = false;
      break;
    }
    if (rate > 0) {
      if (c.allowance < 1) {
        more = false;
        break;
      }
      c.allowance--;
    }
    off = encodePublish(c, off, now);
  }
  if (off === 0) return false;
  return write(c, scratch.subarray(0, off)) && more;
}

// Round-robin over connections that can send, yielding to the event loop
// between rounds so PUBACKs, drains and IPC get their turn.
let spinning = false;
function spin() {
  if (spinning || !running) return;
  spinning = true;
  setImmediate(() => {
    spinning = false;
    let again = false;
    for (const c of conns) if (pump(c)) again = true;
    if (again) spin();
  });
}

// ------------------------------------------------------------------ inbound

function onData(c: Conn, data: Uint8Array) {
  let buf = c.rx ? concat(c.rx, data) : data;
  c.rx = undefined;
  let off = 0;
  let freed = false;
  const now = performance.now();
  while (off < buf.length) {
    if (buf.length - off < 2) break;
    const type = buf[off]! >> 4;
    let len = 0;
    let mul = 1;
    let p = off + 1;
    let complete = false;
    while (p < buf.length) {
      const b = buf[p++]!;
      len += (b & 127) * mul;
      mul *= 128;
      if (!(b & 128)) {
        complete = true;
        break;
      }
    }
    if (!complete || p + len > buf.length) break;
    if (type === 2) c.onConnack?.(buf[p + 1]!);
    else if (type === 4) {
      const id = (buf[p]! << 8) | buf[p + 1]!;
      if (c.busy[id]) {
        c.busy[id] = 0;
        c.inflight--;
        acked++;
        hist[bucketOf(now - c.sentAt[id]!)]!++;
        freed = true;
      }
    }
    off = p + len;
  }
  if (off < buf.length) c.rx = buf.slice(off);
  if (freed && rate === 0) {
    if (pump(c)) spin();
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

// ------------------------------------------------------------------ connecting

async function open(n: number, deviceIndex: number, username?: string, password?: string, topic = ""): Promise<Conn> {
  const c: Conn = {
    n,
    topic: Buffer.from(topic),
    deviceIndex,
    seq: 0,
    connected: false,
    closed: false,
    inflight: 0,
    nextId: 1,
    sentAt: cfg.mode === "load" && cfg.qos ? new Float64Array(ID_SPACE) : new Float64Array(0),
    busy: cfg.mode === "load" && cfg.qos ? new Uint8Array(ID_SPACE) : new Uint8Array(0),
    allowance: 0,
  };
  const connack = new Promise<number>((res) => (c.onConnack = res));
  c.socket = await Bun.connect<Conn>({
    hostname: cfg.host,
    port: cfg.port,
    data: c,
    socket: {
      data: (s, d) => onData(s.data, d),
      drain: (s) => {
        const cc = s.data;
        const p = cc.pending;
        if (!p) return;
        cc.pending = undefined;
        if (write(cc, p) && running) spin();
      },
      close: (s) => {
        s.data.closed = true;
        if (!stopping) errors++;
        s.data.onConnack?.(-1);
      },
      error: (s) => {
        s.data.closed = true;
      },
    },
  });
  write(c, connectPacket(`${cfg.clientPrefix}-${n}`, username, password));
  const timeout = setTimeout(() => c.onConnack?.(-2), 30_000);
  const rc = await connack;
  clearTimeout(timeout);
  c.onConnack = undefined;
  if (rc !== 0) throw new Error(`CONNACK ${rc === -1 ? "connection closed" : rc === -2 ? "timeout" : `return code ${rc}`} for connection ${n}`);
  c.connected = true;
  return c;
}

async function connectAll() {
  const jobs: Array<() => Promise<Conn>> = [];
  if (cfg.anonymous) {
    for (let i = 0; i < cfg.anonymous; i++) jobs.push(() => open(i, i));
  } else {
    cfg.devices.forEach((d, i) => jobs.push(() => open(i, d.index, `${cfg.tenant}/${d.id}`, d.token, `tenant/${cfg.tenant}/device/${d.id}/telemetry`)));
  }
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const job = jobs[next++]!;
      conns.push(await job());
    }
  };
  await Promise.all(Array.from({ length: Math.min(cfg.connectConcurrency, jobs.length) }, worker));
}

// ------------------------------------------------------------------ timers

// Rate mode: hand out allowance every 10 ms.
let lastTick = performance.now();
setInterval(() => {
  const now = performance.now();
  const dt = (now - lastTick) / 1000;
  lastTick = now;
  if (!running || rate <= 0 || conns.length === 0) return;
  const per = (rate * dt) / conns.length;
  // A connection that cannot keep up does not bank an unbounded backlog.
  for (const c of conns) c.allowance = Math.min(c.allowance + per, Math.max(1, rate / conns.length));
  spin();
}, 10);

// Keepalive: PINGREQ to every connection each keepalive/2 seconds, spread out.
const PING = new Uint8Array([0xc0, 0]);
if (cfg.keepalive > 0) {
  let i = 0;
  const stepMs = 100;
  setInterval(() => {
    if (!conns.length) return;
    const per = Math.ceil(conns.length / ((cfg.keepalive * 1000) / 2 / stepMs));
    for (let k = 0; k < per; k++) {
      const c = conns[i++ % conns.length]!;
      if (!c.pending && !c.closed) write(c, PING);
    }
  }, stepMs);
}

process.on("message", (m: { cmd: string; rate?: number }) => {
  switch (m.cmd) {
    case "go":
      running = true;
      for (const c of conns) c.allowance = 0;
      spin();
      break;
    case "rate":
      rate = m.rate ?? 0;
      for (const c of conns) c.allowance = 0;
      spin();
      break;
    case "mark":
      sent = acked = errors = 0;
      hist = new Float64Array(HIST_SIZE);
      break;
    case "report":
      send({ type: "report", sent, acked, errors, hist: Array.from(hist) });
      break;
    case "stop":
      stopping = true;
      running = false;
      for (const c of conns) c.socket?.end();
      setTimeout(() => process.exit(0), 200);
      break;
  }
});

try {
  await connectAll();
  send({ type: "ready", connections: conns.length });
} catch (err) {
  send({ type: "fatal", error: (err as Error).message });
  await Bun.sleep(100);
  process.exit(1);
}
