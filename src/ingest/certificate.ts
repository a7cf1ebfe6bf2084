// The MQTT TLS listener's certificate: the one configured, or a self-signed
// one generated into data_dir on first start (its fingerprint logged, so
// devices can pin it).

import { readFileSync } from "node:fs";
import type { Config } from "../config.ts";
import type { Logger } from "../lib/logger.ts";
import { ensureSelfSigned } from "../lib/selfsigned.ts";

/** The MQTT TLS certificate: from config, or self-signed in data_dir (its fingerprint logged for pinning). */
export async function mqttCertificate(config: Config, log: Logger): Promise<{ cert: string; key: string }> {
  if (config["mqtt.tls_cert"] || config["mqtt.tls_key"]) {
    try {
      return { cert: readFileSync(config["mqtt.tls_cert"], "utf8"), key: readFileSync(config["mqtt.tls_key"], "utf8") };
    } catch (err) {
      throw new Error(`mqtt.tls_cert / mqtt.tls_key: cannot read the certificate or key (${(err as Error).message})`, { cause: err });
    }
  }
  const hosts = ["localhost", "127.0.0.1"];
  if (config.public_url) hosts.push(new URL(config.public_url).hostname);
  const pair = await ensureSelfSigned(config.data_dir, [...new Set(hosts)]);
  log.info(pair.generated ? "mqtt: generated a self-signed TLS certificate" : "mqtt: using the self-signed TLS certificate", { fingerprint_sha256: pair.fingerprint, hint: "set mqtt.tls_cert and mqtt.tls_key for a real one" });
  return pair;
}
