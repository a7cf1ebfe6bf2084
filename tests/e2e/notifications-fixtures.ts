// The notification pages' stage: the notification suites' world (a Pulse
// that may reach loopback receivers, the fixed cast, acme's pump-7, pump-8
// and fan-1 registered straight in the database) plus a scripted HTTP
// receiver, a signed-in agent per person, and the few reads the page suites
// check against. Shared by the browser suite and the plain-HTTP one.

import { withSystem } from "../../src/db/scope.ts";
import { signedIn, type Agent } from "../helpers/agent.ts";
import { PASSWORDS } from "../helpers/cast.ts";
import { startHttpReceiver, type HttpReceiver } from "../helpers/receivers.ts";
import { startWorld, type World } from "../notify/fixtures.ts";
import type { Tab } from "./browser.ts";

export interface NotifyStage {
  world: World;
  receiver: HttpReceiver;
  url: string;
  agent(who: keyof typeof PASSWORDS): Promise<Agent>;
  /** Put a person's session into a browser tab (no sign-in form), then open path. */
  signInTab(tab: Tab, who: keyof typeof PASSWORDS, path?: string): Promise<void>;
  /** A channel's row as the system sees it. */
  channelRow(name: string): Promise<{ id: string; enabled: boolean; disabled_reason: string | null; tenant_id: string } | undefined>;
  /** An alert raised the real way: a threshold rule on `metric`, then a reading over HTTP ingest; returns the alert's id. */
  raise(device: "pump-7" | "pump-8" | "fan-1", metric: string, value: number): Promise<string>;
  stop(): Promise<void>;
}

export async function startNotifyStage(): Promise<NotifyStage> {
  const world = await startWorld();
  const receiver = startHttpReceiver();
  const agents = new Map<string, Promise<Agent>>();
  const rules = new Set<string>();
  const stage: NotifyStage = {
    world,
    receiver,
    url: world.pulse.url,
    agent(who) {
      let a = agents.get(who);
      if (!a) agents.set(who, (a = signedIn(world.pulse.url, who, PASSWORDS[who])));
      return a;
    },
    async signInTab(tab, who, path = "/notifications") {
      const a = await stage.agent(who);
      await tab.context.addCookies([...a.cookies].map(([name, value]) => ({ name, value, url: world.pulse.url })));
      await tab.goto(path);
    },
    async channelRow(name) {
      const [row] = await withSystem(world.pulse.app.db, (tx) => tx.query<{ id: string; enabled: boolean; disabled_reason: string | null; tenant_id: string }>("select id, enabled, disabled_reason, tenant_id from notification_channels where name = $1", [name]));
      return row;
    },
    async raise(device, metric, value) {
      if (!rules.has(metric)) {
        await world.rule(metric, { threshold: 80, severity: "CRITICAL" });
        rules.add(metric);
      }
      await world.send(device, { [metric]: value });
      const alert = await world.alertOf(device, metric);
      if (!alert) throw new Error(`no alert for ${device} ${metric}`);
      return alert.id;
    },
    async stop() {
      receiver.stop();
      await world.stop();
    },
  };
  return stage;
}
