// The embedded MQTT broker (aedes) and its listeners: TCP, TLS, and
// WebSocket at /mqtt on the HTTP port (see ws.ts). Device authentication,
// topic ACLs and ingest are attached by the caller (ingest/mqtt.ts) before
// any listener opens, so no client is ever served without them.

import { Aedes, type Client } from "aedes";
import net from "node:net";
import tls from "node:tls";
import type { Duplex } from "node:stream";
import type { Logger } from "../lib/logger.ts";
import type { Metrics } from "../lib/metrics.ts";
import { listenError } from "../lib/listen.ts";
import { trimClient, trimConnect } from "./lean.ts";
import { canParseDirectly, parseChunk, type PacketParser } from "./publish-parse.ts";

export interface Broker {
  readonly aedes: Aedes;
  readonly port: number;
  readonly tlsPort: number;
  /** Serve one connection (any duplex stream: WebSocket adapters use this). */
  handle(stream: Duplex): void;
  connections(): number;
  close(): Promise<void>;
}

export interface BrokerOptions {
  host: string;
  port: number;
  /** The TLS listener, when enabled. */
  tls?: { port: number; cert: string; key: string };
  connectTimeoutMs: number;
  maxPacketBytes: number;
  /** Most publishes read from all connections and not yet handled; reading pauses above it (default 5,000: they pile up only while the write queue is full, where more buys nothing but memory). */
  maxPendingPublishes?: number;
  log: Logger;
  metrics: Metrics;
  /** Install authentication and authorization on the broker (called before listening). */
  configure: (aedes: Aedes) => void;
}

export async function startBroker(opts: BrokerOptions): Promise<Broker> {
  const { log, metrics } = opts;
  const aedes = await Aedes.createBroker({ connectTimeout: opts.connectTimeoutMs });
  let connected = 0;
  const connects = metrics.counter("pulse_mqtt_connects_total", "MQTT CONNECT attempts by result.");
  const oversize = metrics.counter("pulse_mqtt_oversize_packets_total", "Connections closed for a packet over mqtt.max_packet_bytes.");
  metrics.collect("pulse_mqtt_connections", "Open MQTT client connections.", () => connected);

  // What leans on aedes/mqtt-packet internals (the version is pinned in package.json). If an
  // upgrade moves them, say so once rather than silently losing back-pressure or the size limit.
  let internalsWarned = false;
  const warnInternals = (...without: Array<string | false>) => {
    if (internalsWarned || !without.some(Boolean)) return;
    internalsWarned = true;
    log.warn("mqtt: aedes internals changed; running without " + without.filter(Boolean).join(" and "));
  };

  opts.configure(aedes);
  const authenticate = aedes.authenticate;
  aedes.authenticate = (client, username, password, done) => {
    if (!trimConnect(client)) warnInternals("some of the per-connection memory savings (lean.ts)");
    authenticate.call(aedes, client, username, password, (err, ok) => {
      connects.inc({ result: ok ? "accepted" : "refused" });
      done(err, ok);
    });
  };
  aedes.on("client", () => connected++);
  aedes.on("clientDisconnect", () => connected--);

  // The connections aedes does not know yet (no CONNECT so far, or not yet accepted), so that
  // closing can end them too; aedes.close ends those it knows. Not every connection: an entry
  // for each idle device would be memory spent for nothing.
  const streams = new Set<Duplex>();
  const forget = (stream: Duplex) => void streams.delete(stream);
  aedes.on("client", (client) => {
    // One accepted after aedes.close began is not among those it ends: it stays ours to end.
    if (!aedes.closed) forget(client.conn as unknown as Duplex);
  });

  const pacer = createPacer(opts.maxPendingPublishes ?? 5_000, opts.maxPacketBytes, forget);
  metrics.collect("pulse_mqtt_pending_publishes", "MQTT packets read and not yet handled (a publish: until it is queued for the writer).", () => pacer.pending());
  const limitPacketSize = packetSizeLimit(opts.maxPacketBytes, () => oversize.inc());
  const handle = (stream: Duplex) => {
    streams.add(stream);
    const client = aedes.handle(stream) as unknown as Client;
    const trimmed = trimClient(client, stream);
    const paced = pacer.attach(client, stream);
    const limited = limitPacketSize(client);
    warnInternals(!paced && "read pacing (memory is unbounded under a flood)", !limited && "the early packet-size check (mqtt.max_packet_bytes)", !trimmed && "some of the per-connection memory savings (lean.ts)");
  };

  const servers: net.Server[] = [];
  const listen = async (server: net.Server, port: number, key: "mqtt.port" | "mqtt.tls_port") => {
    await new Promise<void>((resolve, reject) => {
      server.once("error", (err) => reject(listenError(err, opts.host, port, key)));
      server.listen(port, opts.host, () => resolve());
    });
    servers.push(server);
    return (server.address() as net.AddressInfo).port;
  };

  const closeAll = async () => {
    // Stop accepting first, then close clients (aedes.close disconnects them).
    // A listener's close completes only once its connections have ended, so it
    // is awaited last: awaiting it first waited for the devices to hang up,
    // which under load they never do (shutdown overran its 10 s and exited 1).
    const listenersClosed = servers.map((s) => new Promise<void>((r) => s.close(() => r())));
    await new Promise<void>((r) => aedes.close(() => r()));
    for (const s of streams) s.destroy();
    await Promise.all(listenersClosed);
  };

  let port = 0;
  let tlsPort = 0;
  try {
    port = await listen(net.createServer(handle), opts.port, "mqtt.port");
    if (opts.tls) tlsPort = await listen(tls.createServer({ cert: opts.tls.cert, key: opts.tls.key, minVersion: "TLSv1.2" }, handle), opts.tls.port, "mqtt.tls_port");
  } catch (err) {
    await closeAll();
    throw err;
  }
  log.info("mqtt: listening", { host: opts.host, port, tls_port: tlsPort || undefined });

  return { aedes, port, tlsPort, handle, connections: () => connected, close: closeAll };
}

/**
 * Backpressure. aedes reads a connection's next chunk only once every packet
 * of the previous one is handled (a publish is handled once it is queued for
 * the writer; see ingest/mqtt.ts), counting packets in and out; but it
 * also counts each 'readable' event as a packet out, and Bun emits 'readable'
 * for every chunk that arrives while earlier data waits unread, so it kept
 * reading while publishes still waited for room in the write queue. And even
 * when counted right, every connection may hold a whole chunk (hundreds of
 * messages) waiting: with thousands of connections that is millions of
 * messages in memory. Under a QoS 0 flood Pulse grew by GBs a minute.
 *
 * So reading is paced here, for all connections together: a connection reads
 * its next chunk once its previous one is handled and fewer than
 * `maxPending` publishes (all connections together) are parsed but not yet
 * handled; otherwise it waits in line and its data stays in the socket, which
 * slows the sender down through TCP. Connections are let in again as the
 * pending publishes are handled: first those whose last chunk held only a few
 * packets, or few for the time since their chunk before (a device sending now
 * and then, or steadily at a device's pace, whose reading is not what filled
 * the queue), then the others, each line first come, first served. So under a
 * flood from a few connections a quiet device's message waits for one slot,
 * not behind every flooder's next chunk (its alert, judged once it is read,
 * with it).
 */
interface Pacer {
  /**
   * False when aedes' internals are not what this was written against (the
   * connection reads unpaced).
   */
  attach(client: Client, stream: Duplex): boolean;
  pending(): number;
}

type AedesInternals = {
  _nextBatch?: (err?: Error) => void;
  _parsingBatch?: number;
  _parser?: { parse(buf: Buffer): unknown; on(ev: "packet", fn: (this: Tagged) => void): unknown };
  emit(ev: "error", err: Error): boolean;
};

/**
 * One connection's pacing state. The listeners are shared functions that find
 * it on the stream or the parser (idle connections are the common case, and
 * four closures each cost about a tenth of a connection's memory target).
 */
interface Paced {
  c: AedesInternals;
  stream: Duplex;
  /** This connection's publishes parsed and not yet handled. */
  mine: number;
  /** Whether it waits in the quiet line: its last chunk held few packets, or few for the time since the one before. */
  quiet: boolean;
  /** When its last chunk was read (performance.now()). */
  lastRead: number;
  /** Its PUBLISH packets are read straight off the chunk (publish-parse.ts). */
  direct: boolean;
  inLine: boolean;
  closed: boolean;
}

const PACED = Symbol("pulse.paced");
/** A connection whose last chunk held at most this many packets waits in the quiet line. */
const QUIET_CHUNK = 4;
/**
 * …or at most this many a second since its previous chunk (a device's pace;
 * the default per-device rate limit is the same): a device that sends
 * steadily but had to wait finds several messages in its next chunk, and
 * judged by size alone it would wait behind the flooders from then on, its
 * chunks growing the longer it waited.
 */
const QUIET_RATE = 50;
/**
 * What is buffered is taken whole up to this size; above it, the first piece
 * Bun received (a flooder's, hundreds of KB). Taking a flooder's whole buffer
 * parsed thousands more messages ahead of room for them, all held in memory.
 */
const WHOLE_READ_BYTES = 64 * 1024;
type Tagged = { [PACED]?: Paced };

/** `onStreamClose` runs once for each connection attached, when it closes. */
function createPacer(maxPending: number, maxPacketBytes: number, onStreamClose: (stream: Duplex) => void): Pacer {
  let pending = 0;
  const quiet: Paced[] = [];
  const busy: Paced[] = [];
  const wake = () => {
    while ((quiet.length || busy.length) && pending < maxPending) {
      const p = (quiet.length ? quiet : busy).shift()!;
      p.inLine = false;
      read(p);
    }
  };
  const read = (p: Paced) => {
    if (p.closed || p.inLine || p.c._parsingBatch! > 0) return;
    if (pending >= maxPending) {
      p.inLine = true;
      (p.quiet ? quiet : busy).push(p);
      return;
    }
    // Everything buffered (up to WHOLE_READ_BYTES): Bun's read() without a size
    // hands back only the first piece (Node's hands back all), and a connection
    // is read only once per chunk handled, so a device whose messages arrived one
    // by one while it waited was read one message per wait, falling further
    // behind the longer it waited (a QoS 1 device at 20 msg/s under a flood got
    // its PUBACKs seconds late, the queue's wait being well under one).
    const buffered = p.stream.readableLength;
    const buf = (buffered > 0 && buffered <= WHOLE_READ_BYTES ? p.stream.read(buffered) : p.stream.read()) as Buffer | null;
    if (!buf) return;
    const before = p.mine;
    if (p.direct) parseChunk(p.c._parser as unknown as PacketParser, buf, maxPacketBytes);
    else p.c._parser!.parse(buf);
    const chunk = p.mine - before;
    const now = performance.now();
    p.quiet = chunk <= QUIET_CHUNK || chunk <= ((now - p.lastRead) / 1000) * QUIET_RATE;
    p.lastRead = now;
  };
  function onReadable(this: Tagged) {
    read(this[PACED]!);
  }
  function onPacket(this: Tagged) {
    this[PACED]!.mine++;
    pending++;
  }
  // 'close' comes after 'end' and after errors too (and costs less memory per connection than finished()).
  function onClose(this: Tagged) {
    const p = this[PACED]!;
    if (p.closed) return;
    p.closed = true;
    pending -= p.mine;
    p.mine = 0;
    wake();
    onStreamClose(p.stream);
  }
  // The closed connection's own listener when it reads unpaced.
  function onUnpacedClose(this: Duplex) {
    onStreamClose(this);
  }
  // aedes hands this to every packet as its done callback (and to nothing else we use).
  // Made here, apart from attach(), so that it keeps only `p` alive.
  const nextBatch = (p: Paced) => (err?: Error) => {
    if (err) {
      p.c.emit("error", err);
      return;
    }
    if (p.mine > 0 && !p.closed) {
      p.mine--;
      pending--;
      wake();
    }
    p.c._parsingBatch = Math.max(0, p.c._parsingBatch! - 1);
    read(p);
  };
  return {
    pending: () => pending,
    attach(client, stream) {
      const c = client as unknown as AedesInternals;
      const aedesNext = c._nextBatch;
      if (typeof aedesNext !== "function" || typeof c._parsingBatch !== "number" || !c._parser || !stream.listeners("readable").includes(aedesNext)) {
        stream.on("close", onUnpacedClose);
        return false;
      }
      const p: Paced = { c, stream, mine: 0, quiet: true, lastRead: performance.now(), direct: canParseDirectly(c._parser), inLine: false, closed: false };
      (stream as Tagged)[PACED] = p;
      (c._parser as Tagged)[PACED] = p;
      c._parser.on("packet", onPacket);
      c._nextBatch = nextBatch(p);
      stream.removeListener("readable", aedesNext);
      // aedes starts at 1 and lets the first 'readable' take it to 0; nothing is pending yet.
      c._parsingBatch = 0;
      stream.on("readable", onReadable);
      // Not once(): its wrapper costs two closures per connection, and onClose runs only once anyway.
      stream.on("close", onClose);
      return true;
    },
  };
}

/**
 * Close a connection as soon as a packet header announces more than `max`
 * bytes, before its body is buffered. aedes gives no option for this, so the
 * connection's MQTT parser gets a checking `_parseLength` (mqtt-packet's
 * length state): one function for every connection, made once per broker.
 * Returns the function that installs it, false from it when the parser is not
 * what this was written against.
 */
function packetSizeLimit(max: number, onOversize: () => void): (client: Client) => boolean {
  type Parser = { _parseLength(): boolean; packet: { length: number }; _emitError(e: Error): boolean };
  let original: Parser["_parseLength"] | undefined;
  function checkedParseLength(this: Parser) {
    const ok = original!.call(this);
    if (ok && this.packet.length > max) {
      onOversize();
      return this._emitError(new Error(`packet of ${this.packet.length} bytes is over the limit of ${max}`));
    }
    return ok;
  }
  return (client) => {
    const parser = (client as unknown as { _parser?: Parser })._parser;
    if (!parser || typeof parser._parseLength !== "function") return false;
    const own = parser._parseLength;
    if (own !== checkedParseLength) {
      if (original && own !== original) return false; // a different parser than the others: leave it alone
      original = own;
    }
    parser._parseLength = checkedParseLength;
    return true;
  };
}
