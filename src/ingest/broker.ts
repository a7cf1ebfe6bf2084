// The embedded MQTT broker (aedes) and its TCP listener. Device
// authentication, topic ACLs and ingest are wired in by the ingest layer
// (PROTOCOL.md); until a device registry exists every CONNECT is refused, so
// an exposed broker never accepts data it cannot attribute.

import { Aedes, type Client } from "aedes";
import net from "node:net";
import type { Logger } from "../lib/logger.ts";
import type { Metrics } from "../lib/metrics.ts";
import { listenError } from "../lib/listen.ts";

export interface BrokerHooks {
  authenticate?: (client: Client, username: string | undefined, password: Buffer | undefined) => Promise<boolean>;
}

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
  hooks?: BrokerHooks;
}

export async function startBroker(opts: BrokerOptions): Promise<Broker> {
  const { log, metrics } = opts;
  const aedes = await Aedes.createBroker({ connectTimeout: opts.connectTimeoutMs });
  let connected = 0;
  const connects = metrics.counter("pulse_mqtt_connects_total", "MQTT CONNECT attempts by result.");
  metrics.collect("pulse_mqtt_connections", "Open MQTT client connections.", () => connected);

  aedes.authenticate = (client, username, password, done) => {
    const check = opts.hooks?.authenticate ?? (async () => false);
    check(client, username, password).then(
      (ok) => {
        connects.inc({ result: ok ? "accepted" : "refused" });
        if (ok) return done(null, true);
        const err = Object.assign(new Error("not authorized"), { returnCode: 5 });
        done(err as never, false);
      },
      (err) => {
        log.error("mqtt: authentication failed", { error: err });
        done(Object.assign(new Error("server unavailable"), { returnCode: 3 }) as never, false);
      },
    );
  };
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
