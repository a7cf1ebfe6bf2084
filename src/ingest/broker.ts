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

  opts.configure(aedes);
  const authenticate = aedes.authenticate;
  aedes.authenticate = (client, username, password, done) =>
    authenticate.call(aedes, client, username, password, (err, ok) => {
      connects.inc({ result: ok ? "accepted" : "refused" });
      done(err, ok);
    });
  aedes.on("client", () => connected++);
  aedes.on("clientDisconnect", () => connected--);

  const handle = (stream: Duplex) => {
    const client = aedes.handle(stream) as unknown as Client;
    limitPacketSize(client, opts.maxPacketBytes, () => oversize.inc());
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
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    await new Promise<void>((r) => aedes.close(() => r()));
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
 * Close a connection as soon as a packet header announces more than `max`
 * bytes, before its body is buffered. aedes gives no option for this, so the
 * connection's MQTT parser is wrapped (mqtt-packet's length state).
 */
function limitPacketSize(client: Client, max: number, onOversize: () => void): void {
  const parser = (client as unknown as { _parser?: { _parseLength(): boolean; packet: { length: number }; _emitError(e: Error): boolean } })._parser;
  if (!parser || typeof parser._parseLength !== "function") return;
  const parseLength = parser._parseLength;
  parser._parseLength = function (this: typeof parser) {
    const ok = parseLength.call(this);
    if (ok && this!.packet.length > max) {
      onOversize();
      return this!._emitError(new Error(`packet of ${this!.packet.length} bytes is over the limit of ${max}`));
    }
    return ok;
  };
}
