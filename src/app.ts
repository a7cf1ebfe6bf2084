// The composition root: config → database → services → servers → workers.
// createApp() wires everything without listening; start() opens the
// listeners and workers; stop() shuts down in order: intake first (HTTP,
// MQTT), then workers, then the database.

import type { Hono } from "hono";
import { publicUrl, type Config } from "./config.ts";
import { ensureBootstrapAdmin, printAdminBanner } from "./auth/bootstrap.ts";
import { startControlServer, type ControlServer } from "./control/server.ts";
import type { Db } from "./db/db.ts";
import { openDatabase, type DbInfo, type OpenedDb } from "./db/open.ts";
import type { HttpEnv } from "./http/env.ts";
import { buildHttpApp, listenHttp, type HttpListener } from "./http/server.ts";
import { startBroker, type Broker } from "./ingest/broker.ts";
import { startLeaderElection, type Leader } from "./jobs/leader.ts";
import { periodicJobs } from "./jobs/periodic.ts";
import { startScheduler, type Scheduler } from "./jobs/scheduler.ts";
import { systemClock, type Clock } from "./lib/clock.ts";
import type { Logger } from "./lib/logger.ts";
import { createMetrics, type Metrics } from "./lib/metrics.ts";
import { registerProcessMetrics } from "./lib/process-metrics.ts";
import { registerDbMetrics } from "./db/metrics.ts";
import { createSecretBox, resolveSecretKey, type SecretBox } from "./lib/secrets.ts";
import { systemApi } from "./system/api.ts";
import { auditApi } from "./audit/api.ts";
import { apiKeysApi } from "./auth/apikeys/api.ts";
import { createAuth, type Auth } from "./auth/index.ts";
import { meApi } from "./auth/me-api.ts";
import { authenticate, requireApiAuth } from "./auth/middleware.ts";
import { oidcRoutes } from "./auth/oidc/routes.ts";
import { oauthClientsApi } from "./auth/oidc/clients-api.ts";
import { identityProvidersApi } from "./auth/federation/api.ts";
import { usersApi } from "./auth/users/api.ts";
import { createMailer } from "./notify/mailer.ts";
import { tenantsApi } from "./tenants/api.ts";
import { DEVICES_CHANNEL } from "./db/bus.ts";
import { createGate } from "./ingest/accept.ts";
import { ingestRoutes } from "./ingest/http.ts";
import { attachMqttIngest } from "./ingest/mqtt.ts";
import { createQuarantine } from "./ingest/quarantine.ts";
import { quarantineApi } from "./ingest/quarantine-api.ts";
import { createRegistry } from "./ingest/registry.ts";
import { createWriter } from "./ingest/writer.ts";
import { replaySpool, spoolMessages } from "./ingest/spool.ts";
import { mqttWebSocketHandlers, upgradeMqtt } from "./ingest/ws.ts";
import { mqttCertificate } from "./ingest/certificate.ts";
import { STATUS_CHANNEL } from "./ingest/status-sweep.ts";
import { liveRoutes } from "./live/api.ts";
import { startHub, type Hub } from "./live/hub.ts";
import { telemetryApi } from "./telemetry/api.ts";
import { alertsApi } from "./alerts/api.ts";
import { createAlertBus, type AlertBus } from "./alerts/bus.ts";
import { attachTransitionHooks } from "./alerts/transition-hooks.ts";
import { createEngine, RULES_CHANNEL, type Engine } from "./alerts/engine.ts";
import { startAlertWriteThread } from "./alerts/write-thread.ts";
import { notificationsApi } from "./notify/api.ts";
import { startOutboxWorker, type OutboxWorker } from "./notify/outbox.ts";
import { createHostGuard, createSafeFetch } from "./notify/safe-fetch.ts";
import { ensureSnmpEngineId, type NotifyDeps } from "./notify/service.ts";
import { getStatus } from "./system/service.ts";
import { devicesApi } from "./devices/api.ts";
import type { DeviceDeps } from "./devices/deps.ts";
import { createProvisioning } from "./devices/provisioning-api.ts";
import { sitesApi } from "./sites/api.ts";
import { createIngestRate } from "./fleet/rate.ts";
import { loadAssets, type Assets } from "../web/assets.ts";
import { buildWeb } from "../web/app.ts";
import { escalationApi } from "./escalation/api.ts";
import { createEscalationWorker } from "./escalation/worker.ts";
import { oncallApi } from "./oncall/api.ts";
import { contactMethodsApi } from "./oncall/contacts-api.ts";

export interface AppDeps {
  config: Config;
  log: Logger;
  clock?: Clock;
  /** An already opened database (tests); otherwise opened from config. */
  database?: OpenedDb;
  assets?: Assets;
  /** Where the one-time admin password banner goes (stderr by default). */
  banner?: (text: string) => void;
}

export interface App {
  readonly config: Config;
  readonly log: Logger;
  readonly clock: Clock;
  readonly db: Db;
  readonly dbInfo: DbInfo;
  readonly metrics: Metrics;
  readonly secrets: SecretBox;
  readonly auth: Auth;
  readonly hub: Hub;
  readonly alerts: { engine: Engine; bus: AlertBus };
  /** Deliver due notifications now (tests). */
  drainOutbox(): Promise<number>;
  /** The embedded MQTT broker while running (tests subscribe to what Pulse publishes on it). */
  broker(): Broker | undefined;
  readonly ingest: { writer: ReturnType<typeof createWriter>; quarantine: ReturnType<typeof createQuarantine>; registry: ReturnType<typeof createRegistry> };
  /** The hono app: tests call app.http.request() without a socket. */
  readonly http: Hono<HttpEnv>;
  readonly openapi: () => unknown;
  /** Bound ports and URL, known after start(). */
  readonly ports: { http: number; mqtt: number; mqttTls: number; provisioning?: number };
  url(): string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Run a scheduled job now (tests, CLI). */
  runJob(name: string): Promise<void>;
}

export async function createApp(deps: AppDeps): Promise<App> {
  const { config, log } = deps;
  const clock = deps.clock ?? systemClock;
  const startedAt = clock.now();
  const metrics = createMetrics();
  const stopProcessMetrics = registerProcessMetrics(metrics, startedAt);

  const { db, info: dbInfo } = deps.database ?? (await openDatabase({ config, log }));
  registerDbMetrics(metrics, db);

  const key = resolveSecretKey(config["security.secret_key"], config.data_dir);
  if (key.generated) log.warn("security.secret_key is not set; generated one", { path: key.path, hint: "nodes sharing a database need the same key in config" });
  const secrets = await createSecretBox(key.key);

  const ports: App["ports"] = { http: config["http.port"], mqtt: config["mqtt.enabled"] ? config["mqtt.port"] : 0, mqttTls: 0 };
  const url = () => publicUrl(config, ports.http);
  if (!config.public_url) log.warn("public_url is not set; links and token issuer use http://localhost", { hint: "set public_url (PULSE_PUBLIC_URL) to the address people use" });

  const mailer = createMailer(config);
  const auth = createAuth({ config, db, clock, log, secrets, mailer, publicUrl: url });

  // Ingest: registry cache → gate → writer (→ database), rejections → quarantine.
  const registry = createRegistry({ db, now: () => clock.now().getTime() });
  const unlistenDevices = await db.listen(DEVICES_CHANNEL, (payload) => {
    const [tenantId, deviceId] = payload.split("/");
    if (tenantId) registry.invalidate(tenantId, deviceId);
  });
  // Messages/s per tenant for the fleet overview: what this node committed over the last 10 s.
  const ingestRate = createIngestRate({ windowSeconds: 10 });
  const quarantine = createQuarantine({ db, log, metrics, flushMs: 1000 });
  const writer = createWriter({
    db,
    log,
    metrics,
    maxQueue: config["ingest.queue_max"],
    batchRows: config["ingest.batch_rows"],
    flushMs: config["ingest.flush_ms"],
    onCommit: (batch) => ingestRate.record(batch),
    onPoison: (m, err) =>
      quarantine.reject({ tenantId: m.env.tenantId, deviceId: m.env.deviceId, reason: "INVALID_METRIC", detail: `the database refused it: ${err.message}`, transport: m.transport ?? "mqtt", payload: JSON.stringify(m.env.metrics), time: clock.now() }),
  });
  const alertBus = createAlertBus();
  const alertThread = await startAlertWriteThread(config, dbInfo.kind, url, log);
  const engine = createEngine({ db, clock, log, metrics, registry, bus: alertBus, applyChanges: alertThread?.apply });
  const unlistenRules = await db.listen(RULES_CHANNEL, (tenantId) => engine.invalidate(tenantId));
  const gate = createGate({
    registry,
    writer,
    quarantine,
    clock,
    metrics,
    ratePerSecond: config["ingest.device_rate_per_second"],
    rateBurst: config["ingest.device_rate_burst"],
    // Alert rules judge each message as it is admitted, beside the write rather
    // than after it (DESIGN.md §1: "in-process, before the write"): an alert
    // commits in its own transaction, typically before the batch holding its
    // message, instead of waiting for that batch (or for room in a full queue).
    judge: (m) => engine.accept(m),
  });
  const ingestHttp = ingestRoutes({
    gate,
    clock,
    maxMessageBytes: config["ingest.max_message_bytes"],
    maxBatchMessages: config["ingest.max_batch_messages"],
    maxBatchBytes: config["ingest.max_batch_bytes"],
    retryAfterSeconds: 1,
    ratePerSecond: config["ingest.device_rate_per_second"],
  });

  let broker: Broker | undefined;
  // Notifications: routed into the outbox inside the alert's transaction, delivered by the worker.
  const notifyDeps: NotifyDeps = {
    db,
    clock,
    secrets,
    publicUrl: url,
    retryHorizonSeconds: config["notify.retry_hours"] * 3600,
    sendContext: {
      fetch: createSafeFetch({ allowPrivate: config["notify.allow_private_networks"], timeoutMs: config["notify.timeout_seconds"] * 1000 }),
      guardHost: createHostGuard({ allowPrivate: config["notify.allow_private_networks"] }),
      mailer,
      log,
      timeoutMs: config["notify.timeout_seconds"] * 1000,
      cache: new Map(),
      snmpEngineId: await ensureSnmpEngineId(db, key.key),
      snmpEnterpriseOid: config["notify.snmp_enterprise_oid"],
      // The mqtt channel without a broker URL publishes here (the broker exists only once started).
      publishLocal: config["mqtt.enabled"]
        ? (topic, payload, qos, retain) =>
            new Promise<void>((resolve, reject) => {
              if (!broker) return reject(new Error("mqtt: the embedded broker is not running"));
              broker.aedes.publish({ cmd: "publish", topic, payload: Buffer.from(payload), qos, retain, dup: false }, (err) => (err ? reject(err) : resolve()));
            })
        : undefined,
    },
  };
  // Outbox rows and the start of escalation commit with each alert change; the worker job pages level by level.
  attachTransitionHooks(alertBus, notifyDeps);
  const escalation = createEscalationWorker({ db, clock, log, metrics, publicUrl: url, retryHorizonSeconds: notifyDeps.retryHorizonSeconds });

  // Live events for browsers: device connectivity changes from the sweep (on whichever node leads).
  const hub = await startHub(db, log, { [STATUS_CHANNEL]: (tenantId) => ({ type: "devices.status", tenantId }) });
  metrics.collect("pulse_live_subscribers", "Browsers listening to live events.", () => hub.subscribers());

  // Devices and sites: registry changes drop this node's ingest cache entry at
  // once (other nodes hear the NOTIFY); the provisioning API may have a listener of its own.
  const deviceDeps: DeviceDeps = { db, clock, afterChange: (tenantId, deviceId) => registry.invalidate(tenantId, deviceId) };
  const provisioning = createProvisioning({ config, log, metrics, deviceDeps });

  const assets = deps.assets ?? (await loadAssets());
  const status = () => getStatus({ db, dbInfo, startedAt, now: clock.now() });
  let openapiDoc: () => unknown = () => ({});
  const { web, errorPage } = buildWeb({
    assets,
    status,
    openapi: () => openapiDoc(),
    auth,
    alerts: { bus: alertBus, onError: (err) => log.error("alerts: listener failed", { error: err }) },
    ingestRate: (tenantId) => ingestRate.perSecond(tenantId),
    devices: { deps: deviceDeps, mqttPort: () => ports.mqtt },
    notify: notifyDeps,
  });

  const { app: http, openapi } = buildHttpApp({
    log,
    metrics,
    trustProxy: config["http.trust_proxy"],
    https: url().startsWith("https:"),
    readiness: {
      database: async () => {
        await db.query("select 1");
      },
      ...(config["mqtt.enabled"]
        ? {
            mqtt: async () => {
              if (!broker) throw new Error("broker not started");
            },
          }
        : {}),
    },
    middleware: [authenticate(auth)],
    apiGuard: requireApiAuth(),
    api: [
      ["/", systemApi()],
      ["/", meApi(auth)],
      ["/", tenantsApi(auth)],
      ["/", usersApi(auth)],
      ["/", apiKeysApi(auth)],
      ["/", auditApi(auth)],
      ["/", oauthClientsApi(auth)],
      ["/", identityProvidersApi(auth)],
      ["/", telemetryApi(auth)],
      ["/", alertsApi(auth, alertBus, (err) => log.error("alerts: listener failed", { error: err }))],
      ["/", notificationsApi(auth, notifyDeps)],
      ["/", sitesApi({ db, clock })],
      ["/", devicesApi(deviceDeps)],
      ["/", quarantineApi({ db })],
      ["/", oncallApi({ db, clock })],
      ["/", contactMethodsApi({ db, clock, secrets })],
      ["/", escalationApi({ db, clock, secrets })],
    ],
    routes: [oidcRoutes(auth), ingestHttp, liveRoutes(hub), ...provisioning.mainRoutes],
    web,
    assets,
    errorPage,
  });
  openapiDoc = openapi;

  const jobs = periodicJobs({ db, dbInfo, clock, log, metrics, config, auth, engine, escalation });

  let listener: HttpListener | undefined;
  let control: ControlServer | undefined;
  let leader: Leader | undefined;
  let scheduler: Scheduler | undefined;
  let outbox: OutboxWorker | undefined;
  let started = false;

  const stop = async () => {
    // Intake first, so nothing new arrives while the rest winds down.
    await listener?.stop().catch((err) => log.error("http: stop failed", { error: err }));
    await provisioning.stop().catch((err) => log.error("provisioning: stop failed", { error: err }));
    await broker?.close().catch((err) => log.error("mqtt: stop failed", { error: err }));
    // Everything accepted is written (and acknowledged) before the workers and the database go.
    // QoS 0 messages still unwritten when time runs out go to data_dir/spool, written at the next start.
    await writer.stop({ spool: (messages) => spoolMessages(config.data_dir, messages, clock.now()).then(() => {}) });
    await engine.idle();
    await alertThread?.stop();
    await quarantine.stop();
    await unlistenRules().catch(() => {});
    await unlistenDevices().catch(() => {});
    await hub.stop();
    await scheduler?.stop();
    await outbox?.stop();
    // Connections "send test" opened (SMTP, SNMP, MQTT) go with the outbox's.
    for (const v of notifyDeps.sendContext.cache.values()) (v as { close?: () => void }).close?.();
    notifyDeps.sendContext.cache.clear();
    await leader?.stop();
    await control?.stop().catch(() => {});
    stopProcessMetrics();
    await db.close();
    listener = broker = scheduler = leader = control = outbox = undefined;
    if (started) log.info("stopped");
    started = false;
  };

  return {
    config,
    log,
    clock,
    db,
    dbInfo,
    metrics,
    secrets,
    auth,
    hub,
    alerts: { engine, bus: alertBus },
    ingest: { writer, quarantine, registry },
    http,
    openapi,
    ports,
    url,
    async start() {
      try {
        // What the last shutdown could not write goes first, before devices are let in.
        await replaySpool(config.data_dir, writer, log);
        control = await startControlServer(config.data_dir, { config, db, dbInfo, clock, log, startedAt, afterDeviceChange: deviceDeps.afterChange, alertBus });
        if (config["mqtt.enabled"]) {
          broker = await startBroker({
            host: config["mqtt.host"],
            port: config["mqtt.port"],
            tls: config["mqtt.tls_port"] ? { port: config["mqtt.tls_port"], ...(await mqttCertificate(config, log)) } : undefined,
            connectTimeoutMs: config["mqtt.connect_timeout_seconds"] * 1000,
            maxPacketBytes: config["mqtt.max_packet_bytes"],
            log,
            metrics,
            configure: (aedes) =>
              attachMqttIngest(aedes, {
                gate,
                registry,
                writer,
                clock,
                log,
                metrics,
                maxMessageBytes: config["ingest.max_message_bytes"],
                allowEnvelopeAuth: config["mqtt.allow_envelope_auth"],
                maxConnectionsPerTenant: config["mqtt.max_connections_per_tenant"],
              }),
          });
          ports.mqtt = broker.port;
          ports.mqttTls = broker.tlsPort;
        }
        const b = broker;
        listener = listenHttp(http, {
          host: config["http.host"],
          port: config["http.port"],
          maxBodyBytes: config["http.max_body_bytes"],
          log,
          websocket: b ? { upgrade: upgradeMqtt, handlers: mqttWebSocketHandlers((stream) => b.handle(stream)) } : undefined,
        });
        ports.http = listener.port;
        ports.provisioning = provisioning.start();
        outbox = await startOutboxWorker({
          db,
          clock,
          log,
          metrics,
          secrets,
          send: notifyDeps.sendContext,
          batch: 200,
          leaseSeconds: config["notify.timeout_seconds"] * 3,
          breakAfter: config["notify.circuit_failures"],
          pollMs: 1000,
        });
        leader = startLeaderElection({ db, log });
        scheduler = startScheduler({ jobs, leader, log, metrics });
      } catch (err) {
        await stop().catch(() => {});
        throw err;
      }
      // The first operator-admin is created once everything listens: a start that fails
      // (a port in use) creates nothing, and the one-time password is printed right away.
      const boot = await ensureBootstrapAdmin(db, config["bootstrap.admin_password"]);
      if (boot.created) printAdminBanner(deps.banner ?? ((s) => process.stderr.write(s)), url(), boot.generatedPassword);
      started = true;
      log.info("ready", { url: url(), http_port: ports.http, mqtt_port: ports.mqtt, database: dbInfo.kind });
    },
    stop,
    broker: () => broker,
    drainOutbox: async () => {
      if (!outbox) throw new Error("app: not started");
      return outbox.drain();
    },
    runJob: async (name) => {
      if (!scheduler) throw new Error("app: not started");
      await scheduler.runNow(name);
    },
  };
}
