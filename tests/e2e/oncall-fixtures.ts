// The on-call pages' stage: the on-call suites' world on a manual clock
// (the fixed cast, acme's pumps, NO_HEARTBEAT off) started on Tuesday 20
// October 2026, 10:00 in Berlin — five days before the clocks go back, so
// every 14-day timeline crosses a DST change — plus a signed-in agent per
// person and the service calls the stories use where the page is not the
// story. Shared by the browser suite and the plain-HTTP one.

import { createOnCallSchedule, addScheduleLayer, type ScheduleRow } from "../../src/oncall/service.ts";
import { saveEscalationPolicy, type Policy } from "../../src/escalation/service.ts";
import { addMyContactMethod } from "../../src/oncall/contacts.ts";
import { signedIn, type Agent } from "../helpers/agent.ts";
import { PASSWORDS } from "../helpers/cast.ts";
import { startWorld, type World } from "../oncall/fixtures.ts";
import type { Tab } from "./browser.ts";

/** Tuesday 20 October 2026, 10:00 CEST. */
export const START = "2026-10-20T08:00:00Z";

export interface OnCallStage {
  world: World;
  url: string;
  agent(who: keyof typeof PASSWORDS): Promise<Agent>;
  /** Put a person's session into a browser tab (no sign-in form), then open path. */
  signInTab(tab: Tab, who: keyof typeof PASSWORDS, path?: string): Promise<void>;
  deps: { db: World["pulse"]["app"]["db"]; clock: World["clock"]; secrets: World["pulse"]["app"]["secrets"] };
  /** A schedule in Berlin with a daily 09:00 layer of alice and bob from 20 October (through the services). */
  schedule(name: string, users?: Array<"alice" | "bob">): Promise<ScheduleRow>;
  /** A policy through the service, as alice. */
  policy(name: string, levels: Array<{ delay_minutes: number; targets: Array<Record<string, unknown>> }>, opts?: { is_tenant_default?: boolean }): Promise<Policy>;
  /** A contact method for someone, through the service. */
  contact(who: "alice" | "bob", input: Record<string, unknown>): Promise<void>;
  stop(): Promise<void>;
}

export async function startOnCallStage(): Promise<OnCallStage> {
  const world = await startWorld({ start: START, config: { "auth.session_hours": 720, "auth.session_idle_minutes": 10080 } });
  const agents = new Map<string, Promise<Agent>>();
  const deps = { db: world.pulse.app.db, clock: world.clock, secrets: world.pulse.app.secrets };
  const stage: OnCallStage = {
    world,
    url: world.pulse.url,
    deps,
    agent(who) {
      let a = agents.get(who);
      if (!a) agents.set(who, (a = signedIn(world.pulse.url, who, PASSWORDS[who])));
      return a;
    },
    async signInTab(tab, who, path = "/oncall") {
      const a = await stage.agent(who);
      await tab.context.addCookies([...a.cookies].map(([name, value]) => ({ name, value, url: world.pulse.url })));
      await tab.goto(path);
    },
    async schedule(name, users = ["alice", "bob"]) {
      const ctx = world.as(world.cast.alice);
      const s = await createOnCallSchedule(deps, ctx, { name, timezone: "Europe/Berlin" });
      await addScheduleLayer(deps, ctx, s.id, { name: "Primary", rotation: "daily", handoff_time: "09:00", start_date: "2026-10-20", users: users.map((u) => world.cast[u].id) });
      return s;
    },
    policy: (name, levels, opts = {}) => saveEscalationPolicy(deps, world.as(world.cast.alice), undefined, { name, levels, ...opts }),
    async contact(who, input) {
      await addMyContactMethod(deps, world.as(world.cast[who], who === "alice" ? "tenant-admin" : "customer"), input);
    },
    stop: () => world.stop(),
  };
  return stage;
}
