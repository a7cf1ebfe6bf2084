// Which devices a rule or maintenance window covers: sites, tags, devices
// (all given criteria must match; nothing given = every device). The same
// three fields on every form that has a scope, read back into the object the
// services check, and shown as one line in lists.

import type { Context } from "hono";
import type { Scope } from "../../src/alerts/evaluate.ts";
import type { HttpEnv } from "../../src/http/env.ts";
import { invalid } from "../../src/lib/errors.ts";
import { html, type VNode } from "../render.ts";
import { FieldShell, fieldAria } from "./field.ts";
import type { FormState } from "./form.ts";

const list = (text: string | undefined) =>
  (text ?? "")
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);

/** The scope a form describes; tags are "key=value" pairs separated by commas. */
export function scopeFromForm(values: Record<string, string | undefined>): Scope {
  const scope: Scope = {};
  const sites = list(values.sites);
  if (sites.length) scope.sites = sites;
  const devices = list(values.devices);
  if (devices.length) scope.devices = devices;
  const tagText = (values.tags ?? "").trim();
  if (tagText) {
    const tags: Record<string, string> = {};
    for (const pair of tagText.split(",").map((s) => s.trim()).filter(Boolean)) {
      const i = pair.indexOf("=");
      if (i <= 0) throw invalid("scope.tags", `scope.tags: write tags as key=value, separated by commas ("${pair}" has no value)`);
      tags[pair.slice(0, i).trim()] = pair.slice(i + 1).trim();
    }
    scope.tags = tags;
  }
  return scope;
}

/** A scope as form values (the inverse of scopeFromForm). */
export function scopeValues(s: Scope): Record<string, string> {
  return {
    sites: (s.sites ?? []).join(","),
    devices: (s.devices ?? []).join(", "),
    tags: Object.entries(s.tags ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(", "),
  };
}

/** Service field names of a scope → the inputs here. */
export const SCOPE_FIELDS: Record<string, string> = { "scope.sites": "sites", "scope.tags": "tags", "scope.devices": "devices", scope: "sites" };

/** "Every device", or "sites Plant, Yard · tag zone=north · devices pump-7". */
export function scopeText(s: Scope, siteNames: ReadonlyMap<string, string> = new Map()): string {
  const parts: string[] = [];
  if (s.sites?.length) parts.push(`${s.sites.length === 1 ? "site" : "sites"} ${s.sites.map((id) => siteNames.get(id) ?? id).join(", ")}`);
  if (s.tags && Object.keys(s.tags).length)
    parts.push(
      `${Object.keys(s.tags).length === 1 ? "tag" : "tags"} ${Object.entries(s.tags)
        .map(([k, v]) => `${k}=${v}`)
        .join(", ")}`,
    );
  if (s.devices?.length) parts.push(`${s.devices.length === 1 ? "device" : "devices"} ${s.devices.join(", ")}`);
  return parts.length ? parts.join(" · ") : "Every device";
}

/** Sites (a multi-select of the tenant's sites), tags and devices. */
export function ScopeFields(p: { form?: FormState; sites: ReadonlyArray<{ id: string; name: string }>; idPrefix: string; legend?: string }): VNode {
  const selected = new Set(list(p.form?.values.sites));
  const siteId = `${p.idPrefix}-sites`;
  const tagsId = `${p.idPrefix}-tags`;
  const devicesId = `${p.idPrefix}-devices`;
  return html`<fieldset class="plain-fieldset scope-fields">
    <legend class="label-like">${p.legend ?? "Which devices"}</legend>
    <p class="hint">Leave all three empty for every device; otherwise a device must match every one given.</p>
    ${p.sites.length
      ? FieldShell({
          id: siteId,
          label: "Sites",
          name: "sites",
          form: p.form,
          optional: true,
          hint: "Hold Ctrl (⌘ on a Mac) to pick several.",
          children: html`<select id=${siteId} name="sites" multiple size=${Math.min(5, Math.max(3, p.sites.length))} ...${fieldAria({ id: siteId, name: "sites", form: p.form, hint: true })}>
            ${p.sites.map((s) => html`<option value=${s.id} selected=${selected.has(s.id)}>${s.name}${s.name !== s.id ? ` (${s.id})` : ""}</option>`)}
          </select>`,
        })
      : html`<input type="hidden" name="sites" value=${p.form?.values.sites ?? ""} />`}
    ${FieldShell({
      id: tagsId,
      label: "Tags",
      name: "tags",
      form: p.form,
      optional: true,
      hint: html`<code>key=value</code> pairs, separated by commas: <code>zone=north, line=2</code>`,
      children: html`<input id=${tagsId} name="tags" type="text" value=${p.form?.values.tags ?? ""} autocomplete="off" ...${fieldAria({ id: tagsId, name: "tags", form: p.form, hint: true })} />`,
    })}
    ${FieldShell({
      id: devicesId,
      label: "Devices",
      name: "devices",
      form: p.form,
      optional: true,
      hint: "Device ids, separated by commas.",
      children: html`<input id=${devicesId} name="devices" type="text" value=${p.form?.values.devices ?? ""} autocomplete="off" ...${fieldAria({ id: devicesId, name: "devices", form: p.form, hint: true })} />`,
    })}
  </fieldset>`;
}

/** A posted form's fields; repeated fields (a multi-select) are joined with commas. */
export async function postedValues(c: Context<HttpEnv>): Promise<Record<string, string | undefined>> {
  const body = await c.req.parseBody({ all: true });
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(body)) {
    if (typeof v === "string") out[k] = v;
    else if (Array.isArray(v)) out[k] = v.filter((x): x is string => typeof x === "string").join(",");
  }
  return out;
}
