// The embedded MQTT broker (aedes) and its TCP listener. Device
// authentication, topic ACLs and ingest are attached by the caller
// (ingest/mqtt.ts) before the listener opens, so no client is ever served
// by a broker without them.

import { Aedes } from "aedes";
import net from "node:net";
import type { Logger } from "../lib/logger.ts";
import type { Metrics } from "../lib/metrics.ts";
import { listenError } from "../lib/listen.ts";

export interface Broker {
  readonly aedes: Aedes;
  readonly port: number;
  connections(): number;
  close(): Promise<void>;
}

export interface BrokerOptions {
  host: string;
  port: number;
  connectTimeoutMs: number;
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

  const server = net.createServer((socket) => aedes.handle(socket));
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err) => reject(listenError(err, opts.host, opts.port, "mqtt.port")));
    server.listen(opts.port, opts.host, () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  log.info("mqtt: listening", { host: opts.host, port });

  return {
    aedes,
    port,
    connections: () => connected,
    close: async () => {
      // Stop accepting first, then close clients (aedes.close disconnects them).
      await new Promise<void>((r) => server.close(() => r()));
      await new Promise<void>((r) => aedes.close(() => r()));
    },
  };
}
