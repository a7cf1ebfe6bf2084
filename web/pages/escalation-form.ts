// The escalation policy's level builder: up to five levels, each a delay and
// its targets (people, schedules — whoever is on call then —, channels and
// webhook URLs), in order. Without JavaScript, "Add level" re-renders the
// form with one more, and each level's up/down/remove buttons post (they
// save an existing policy at once). The levels island drags levels into a
// new order (and moves them with the same buttons without a round trip);
// the order travels in the hidden `order` fields, in document order.

import type { Context } from "hono";
import type { HttpEnv } from "../../src/http/env.ts";
import { AppError } from "../../src/lib/errors.ts";
import { MAX_LEVELS, type Policy, type PolicyInput } from "../../src/escalation/service.ts";
import { CheckboxField, CsrfField, FormAlert, sentence, TextField, type FormState } from "../components/form.ts";
import { html, type VNode } from "../render.ts";

export interface LevelDraft {
  delay: string;
  users: string[];
  schedules: string[];
  channels: string[];
  /** Ids of this policy's webhook targets to keep (their URLs are never shown). */
  keep: string[];
  /** A new webhook URL. */
  webhook: string;
}

export const emptyLevel = (first: boolean): LevelDraft => ({ delay: first ? "0" : "15", users: [], schedules: [], channels: [], keep: [], webhook: "" });

export type Intent = { kind: "save" } | { kind: "add" } | { kind: "up" | "down" | "remove"; index: number };

/** Every posted field as a list of its values. */
export async function postedLists(c: Context<HttpEnv>): Promise<Record<string, string[]>> {
  const body = await c.req.parseBody({ all: true });
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(body)) out[k] = (Array.isArray(v) ? v : [v]).filter((x): x is string => typeof x === "string");
  return out;
}

/** The levels as posted, in the order of the `order` fields (document order: after a drag, the new one). */
export function draftsFrom(f: Record<string, string[]>): LevelDraft[] {
  const keys = (f.order ?? []).filter((k) => /^\d+$/.test(k));
  const one = (k: string) => f[k]?.[0] ?? "";
  return keys.map((k) => ({
    delay: one(`l${k}_delay`),
    users: f[`l${k}_users`] ?? [],
    schedules: f[`l${k}_schedules`] ?? [],
    channels: f[`l${k}_channels`] ?? [],
    keep: f[`l${k}_keep`] ?? [],
    webhook: one(`l${k}_webhook`).trim(),
  }));
}

/** What the pressed button asks for: save, add a level, or move/remove one (by its position in the posted order). */
export function intentOf(f: Record<string, string[]>): Intent {
  const v = f.intent?.[0] ?? "save";
  if (v === "add") return { kind: "add" };
  const m = /^(up|down|remove):(\d+)$/.exec(v);
  if (m) {
    const index = (f.order ?? []).indexOf(m[2]!);
    if (index >= 0) return { kind: m[1] as "up" | "down" | "remove", index };
  }
  return { kind: "save" };
}

/** The levels after an up/down/remove (a copy; moves past either end change nothing). */
export function applyIntent(levels: LevelDraft[], intent: Intent): LevelDraft[] {
  const out = [...levels];
  if (intent.kind === "add") {
    if (out.length < MAX_LEVELS) out.push(emptyLevel(out.length === 0));
  } else if (intent.kind === "remove") out.splice(intent.index, 1);
  else if (intent.kind === "up" || intent.kind === "down") {
    const j = intent.kind === "up" ? intent.index - 1 : intent.index + 1;
    if (j >= 0 && j < out.length) [out[intent.index], out[j]] = [out[j]!, out[intent.index]!];
  }
  return out;
}

const hasTargets = (l: LevelDraft) => l.users.length + l.schedules.length + l.channels.length + l.keep.length > 0 || l.webhook !== "";

/**
 * The service's input. Levels without any target are left out (an added
 * level nobody filled in); `kept` maps each level sent to its draft, so a
 * refusal about "levels.1" lands next to the right block.
 */
export function policyInputFrom(f: Record<string, string[]>, levels: LevelDraft[]): { input: PolicyInput; kept: number[] } {
  const one = (k: string) => f[k]?.[0] ?? "";
  const num = (v: string) => (v.trim() === "" ? undefined : Number(v.trim()));
  const kept = levels.flatMap((l, i) => (hasTargets(l) ? [i] : []));
  return {
    kept,
    input: {
      name: one("name"),
      repeat_count: num(one("repeat_count")),
      repeat_delay_minutes: num(one("repeat_delay_minutes")),
      is_tenant_default: one("is_tenant_default") === "on",
      levels: kept.map((i) => {
        const l = levels[i]!;
        return {
          delay_minutes: num(l.delay),
          targets: [
            ...l.users.map((user_id) => ({ type: "user", user_id })),
            ...l.schedules.map((schedule_id) => ({ type: "schedule", schedule_id })),
            ...l.channels.map((channel_id) => ({ type: "channel", channel_id })),
            ...l.keep.map((id) => ({ type: "webhook", id })),
            ...(l.webhook ? [{ type: "webhook", url: l.webhook }] : []),
          ],
        };
      }),
    },
  };
}

/** A stored policy's levels as drafts. */
export function draftsOf(p: Policy): LevelDraft[] {
  return p.levels.map((l) => ({
    delay: String(l.delay_minutes),
    users: l.targets.flatMap((t) => (t.type === "user" ? [t.user_id] : [])),
    schedules: l.targets.flatMap((t) => (t.type === "schedule" ? [t.schedule_id] : [])),
    channels: l.targets.flatMap((t) => (t.type === "channel" ? [t.channel_id] : [])),
    keep: l.targets.flatMap((t) => (t.type === "webhook" ? [t.id] : [])),
    webhook: "",
  }));
}

/** The levels of a stored policy as the service's input (webhooks kept by id). */
export function policyInputOf(p: Policy, changes: Partial<PolicyInput> = {}): PolicyInput {
  return {
    name: p.name,
    repeat_count: p.repeat_count,
    repeat_delay_minutes: p.repeat_delay_minutes,
    is_tenant_default: p.is_tenant_default,
    levels: p.levels.map((l) => ({
      delay_minutes: l.delay_minutes,
      targets: l.targets.map((t) => (t.type === "user" ? { type: "user", user_id: t.user_id } : t.type === "schedule" ? { type: "schedule", schedule_id: t.schedule_id } : t.type === "channel" ? { type: "channel", channel_id: t.channel_id } : { type: "webhook", id: t.id })),
    })),
    ...changes,
  };
}

/** A service refusal as form state: "levels.1.targets.0.url" lands on the block of the level that was sent second. */
export function policyFormError(err: unknown, values: Record<string, string | undefined>, kept: number[]): FormState {
  if (!(err instanceof AppError) || err.status >= 500) throw err;
  const state: FormState = { values, errors: {} };
  const field = err.field ?? "";
  const message = sentence(err.message.replace(/^[\w.]+: /, ""));
  const m = /^levels\.(\d+)(?:\.(delay_minutes|targets)(?:\.\d+\.(\w+))?)?/.exec(field);
  if (m) {
    const block = kept[Number(m[1])] ?? 0;
    const where = m[2] === "delay_minutes" ? "delay" : m[2] === "targets" && m[3] === "url" ? "webhook" : "targets";
    state.errors[`l${block}_${where}`] = m[2] === "targets" && !m[3] ? "Choose 1 to 10 targets." : message;
  } else if (field === "levels") state.errors.levels = "Give the policy at least one level with a target (at most 5 levels).";
  else if (["name", "repeat_count", "repeat_delay_minutes"].includes(field)) state.errors[field] = message;
  else state.general = sentence(err.message);
  return state;
}

export interface Choices {
  people: Array<{ id: string; username: string; name: string }>;
  schedules: Array<{ id: string; name: string; timezone: string }>;
  channels: Array<{ id: string; name: string; type: string; enabled: boolean }>;
  /** This policy's webhook targets: id → scheme and host. */
  webhooks: Map<string, string>;
}

function Checks(p: { name: string; legend: string; items: Array<{ value: string; label: string; sub?: string }>; checked: string[]; empty: string }): VNode {
  const on = new Set(p.checked);
  return html`<fieldset class="plain-fieldset target-group">
    <legend class="label-like">${p.legend}</legend>
    ${p.items.length
      ? html`<div class="choice-row">
          ${p.items.map((o) => html`<label class="choice"><input type="checkbox" name=${p.name} value=${o.value} checked=${on.has(o.value)} /> ${o.label}${o.sub ? html` <span class="muted small">${o.sub}</span>` : null}</label>`)}
        </div>`
      : html`<p class="hint">${p.empty}</p>`}
  </fieldset>`;
}

function LevelBlock(p: { l: LevelDraft; k: number; count: number; form: FormState; choices: Choices }): VNode {
  const { l, k, form } = p;
  const n = k + 1;
  const delayId = `l${k}-delay`;
  const delayError = form.errors[`l${k}_delay`];
  const targetsError = form.errors[`l${k}_targets`];
  const webhookError = form.errors[`l${k}_webhook`];
  return html`<li class=${"level" + (targetsError || delayError || webhookError ? " level-invalid" : "")} data-level=${String(n)}>
    <input type="hidden" name="order" value=${String(k)} />
    <div class="level-head">
      <span class="drag-handle" data-drag-handle hidden role="button" tabindex="0" aria-label=${`Drag level ${n} to reorder (or use the arrow keys)`} title="Drag to reorder">⠿</span>
      <h3 class="level-title">Level <span data-level-number>${n}</span></h3>
      <span class="level-moves">
        <button class="btn btn-sm" type="submit" name="intent" value=${`up:${k}`} data-move="up" disabled=${k === 0} aria-label=${`Move level ${n} up`}>↑ Up</button>
        <button class="btn btn-sm" type="submit" name="intent" value=${`down:${k}`} data-move="down" disabled=${k === p.count - 1} aria-label=${`Move level ${n} down`}>↓ Down</button>
        <button class="btn btn-sm btn-ghost" type="submit" name="intent" value=${`remove:${k}`} data-remove>Remove</button>
      </span>
    </div>
    <div class=${"field level-delay" + (delayError ? " field-invalid" : "")}>
      <label for=${delayId}><span data-delay-label>${k === 0 ? "Wait after the alert opens" : "Wait after the previous level"}</span></label>
      <span class="amount-unit">
        <input id=${delayId} name=${`l${k}_delay`} type="number" min="0" max="1440" inputmode="numeric" value=${l.delay} aria-invalid=${delayError ? "true" : undefined} aria-describedby=${delayError ? `${delayId}-err` : undefined} />
        <span class="unit">minutes</span>
      </span>
      ${delayError ? html`<div class="field-error" id=${`${delayId}-err`} role="alert">${delayError}</div>` : null}
    </div>
    <div class="targets">
      ${Checks({ name: `l${k}_schedules`, legend: "Schedules (whoever is on call then)", items: p.choices.schedules.map((s) => ({ value: s.id, label: s.name, sub: s.timezone })), checked: l.schedules, empty: "No on-call schedules yet." })}
      ${Checks({ name: `l${k}_users`, legend: "People", items: p.choices.people.map((u) => ({ value: u.id, label: u.username, sub: u.name && u.name !== u.username ? u.name : undefined })), checked: l.users, empty: "No people." })}
      ${Checks({ name: `l${k}_channels`, legend: "Channels", items: p.choices.channels.map((ch) => ({ value: ch.id, label: ch.name, sub: `${ch.type}${ch.enabled ? "" : ", disabled"}` })), checked: l.channels, empty: "No notification channels yet." })}
      ${l.keep.length
        ? Checks({ name: `l${k}_keep`, legend: "Webhooks of this policy", items: l.keep.map((id) => ({ value: id, label: p.choices.webhooks.get(id) ?? "webhook" })), checked: l.keep, empty: "" })
        : null}
      <div class=${"field" + (webhookError ? " field-invalid" : "")}>
        <label for=${`l${k}-webhook`}>New webhook URL <span class="optional">optional</span></label>
        <input id=${`l${k}-webhook`} name=${`l${k}_webhook`} type="url" value=${l.webhook} placeholder="https://…" autocomplete="off" aria-invalid=${webhookError ? "true" : undefined} />
        ${webhookError ? html`<div class="field-error" role="alert">${webhookError}</div>` : html`<div class="hint">Signed with a secret Pulse makes; only its scheme and host are shown afterwards.</div>`}
      </div>
      ${targetsError ? html`<div class="field-error" role="alert" data-targets-error>${targetsError}</div>` : null}
    </div>
  </li>`;
}

/** The whole policy form: name, levels (the builder), repeats, tenant default. */
export function PolicyForm(p: { c: Context<HttpEnv>; action: string; form: FormState; levels: LevelDraft[]; choices: Choices; isNew: boolean; note?: string }): VNode {
  const f = p.form;
  return html`<form method="post" action=${p.action} class="form policy-form card" novalidate data-policy-form>
    ${CsrfField(p.c)}
    <button type="submit" name="intent" value="save" class="visually-hidden" tabindex="-1" aria-hidden="true">Save</button>
    ${FormAlert({ form: f })}
    ${p.note ? html`<div class="flash flash-info" role="status">${p.note}</div>` : null}
    ${TextField({ name: "name", label: "Name", form: f, idPrefix: "pol", placeholder: "Pumps", maxlength: 200 })}
    <h2 class="levels-title">Levels</h2>
    <p class="hint">Level 1 pages after its delay; each next level waits its own delay after the previous one, until someone acknowledges. Drag a level by its handle (or use Up and Down) to reorder.</p>
    ${f.errors.levels ? html`<div class="field-error" role="alert" data-levels-error>${f.errors.levels}</div>` : null}
    <ol class="levels" data-levels>
      ${p.levels.map((l, k) => LevelBlock({ l, k, count: p.levels.length, form: f, choices: p.choices }))}
    </ol>
    <p class="level-order-note" data-order-note role="status" aria-live="polite"></p>
    ${p.levels.length < MAX_LEVELS ? html`<button class="btn" type="submit" name="intent" value="add" data-add-level>+ Add level</button>` : html`<p class="hint">${MAX_LEVELS} levels is the most a policy has.</p>`}
    <fieldset class="plain-fieldset scope-fields">
      <legend class="label-like">When nobody acknowledges</legend>
      <div class="form-grid">
        ${TextField({ name: "repeat_count", label: "Run the policy again", form: f, idPrefix: "pol", type: "number", hint: "Times (0 to 10) after the last level." })}
        ${TextField({ name: "repeat_delay_minutes", label: "Minutes before running again", form: f, idPrefix: "pol", type: "number" })}
      </div>
    </fieldset>
    ${CheckboxField({ name: "is_tenant_default", label: "Tenant default: used for alerts whose rule names no policy", form: f, idPrefix: "pol" })}
    <div class="actions">
      <button class="btn btn-primary" type="submit" name="intent" value="save">${p.isNew ? "Create policy" : "Save policy"}</button>
      <a class="btn btn-ghost" href="/escalation">Cancel</a>
    </div>
  </form>`;
}
