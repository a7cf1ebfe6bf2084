// The rest of a device's page: its events (status changes, token rotations,
// decommissioning) as a timeline, its tokens (rotate with an optional
// overlap, the new one shown once; revoke one), its alerts, the edit form,
// and the actions (decommission with a reason, recommission with a new token
// shown once). Every action is a form that posts and redirects with a flash,
// except the two that show a secret, which answer the POST with it.

import { Hono, type Context } from "hono";
import { listTenantAlerts } from "../../src/alerts/service.ts";
import { ctxFrom } from "../../src/auth/middleware.ts";
import { decommissionDevice, listDeviceEvents, recommissionDevice, updateDevice, type Device, type DeviceEvent } from "../../src/devices/service.ts";
import { listDeviceTokens, revokeDeviceToken, rotateDeviceToken, type DeviceToken } from "../../src/devices/tokens.ts";
import { parseTagString } from "../../src/devices/validate.ts";
import type { HttpEnv } from "../../src/http/env.ts";
import { AppError } from "../../src/lib/errors.ts";
import { listSites } from "../../src/sites/service.ts";
import { AlertList } from "../components/alert-list.ts";
import { Badge } from "../components/badges.ts";
import { EmptyState } from "../components/empty.ts";
import { ConfirmAction, COPY_ISLAND, CsrfField, emptyForm, FormAlert, formError, redirectWithError, SelectField, TextAreaField, TextField, type FormState } from "../components/form.ts";
import { formFields } from "../components/form-token.ts";
import { absoluteTime, humanDuration, RelativeTime } from "../components/format.ts";
import { redirectWithFlash, type PageEnv } from "../components/page.ts";
import { DataTable, type Column } from "../components/table.ts";
import { html, type VNode } from "../render.ts";
import { Credentials, tagsText, type DevicePageDeps } from "./devices-common.ts";
import { devicePage, loadDevice, type DeviceView } from "./devices-detail.ts";

const OVERLAPS = [
  { value: "0", label: "None: the old token stops now" },
  { value: "3600", label: "1 h" },
  { value: "86400", label: "24 h" },
  { value: "604800", label: "7 days" },
];

export function deviceManagePages(env: PageEnv, deps: DevicePageDeps): Hono<HttpEnv> {
  const app = new Hono<HttpEnv>();
  const base = (id: string) => `/devices/${encodeURIComponent(id)}`;
  const endpoint = () => ({ publicUrl: deps.auth.publicUrl(), mqttPort: deps.mqttPort() });

  // ---- Events ----

  app.get("/devices/:id/events", async (c) => {
    const v = await loadDevice(c, env, deps);
    if (v instanceof Response) return v;
    const events = await listDeviceEvents(deps.devices, v.ctx, v.device.id, { limit: 200 });
    return devicePage(
      c,
      env,
      v,
      "events",
      events.length
        ? html`<ol class="dev-timeline" aria-label="Events">
            ${events.map((e) => EventItem(e, v))}
          </ol>`
        : EmptyState({ title: "No events yet", body: "Registration, status changes, token rotations and decommissioning show here.", compact: true }),
    );
  });

  // ---- Tokens ----

  app.get("/devices/:id/tokens", async (c) => {
    const v = await loadDevice(c, env, deps);
    if (v instanceof Response) return v;
    return tokensTab(c, v);
  });

  async function tokensTab(c: Context<HttpEnv>, v: DeviceView, form?: FormState, status = 200): Promise<Response> {
    const tokens = await listDeviceTokens(deps.devices, v.ctx, v.device.id);
    const columns: Column<DeviceToken>[] = [
      { key: "id", label: "Token", cell: (t) => html`<code title=${t.id}>${t.id.slice(0, 8)}…</code>` },
      { key: "state", label: "State", cell: (t) => TokenState(t, v.now) },
      { key: "created", label: "Issued", cell: (t) => RelativeTime({ t: t.createdAt, now: v.now, timeZone: v.zone }) },
      { key: "expires", label: "Works until", cell: (t) => (t.revokedAt ? html`<span class="muted">revoked ${RelativeTime({ t: t.revokedAt, now: v.now, timeZone: v.zone })}</span>` : t.expiresAt ? RelativeTime({ t: t.expiresAt, now: v.now, timeZone: v.zone }) : html`<span class="muted">until rotated</span>`) },
      { key: "used", label: "Last used", cell: (t) => (t.lastUsedAt ? RelativeTime({ t: t.lastUsedAt, now: v.now, timeZone: v.zone }) : html`<span class="muted">never</span>`) },
      ...(v.admin
        ? [
            {
              key: "actions",
              label: "",
              cell: (t: DeviceToken) =>
                t.active
                  ? ConfirmAction({
                      c,
                      label: "Revoke",
                      small: true,
                      action: `${base(v.device.id)}/tokens/${t.id}/revoke`,
                      message: html`Revoke token <code>${t.id.slice(0, 8)}…</code>? Messages and connections with it are refused with <code>TOKEN_INVALID</code> from now on. Other tokens keep working.`,
                      confirm: "Revoke token",
                    })
                  : null,
            },
          ]
        : []),
    ];
    const canRotate = v.admin && v.device.status === "ACTIVE";
    return devicePage(
      c,
      env,
      v,
      "tokens",
      html`<p class="muted">Provision tokens prove a message comes from this device. Pulse keeps only their hashes; a new one is shown once.</p>
        ${DataTable({
          label: "Tokens",
          columns,
          rows: tokens,
          url: c.req.url,
          rowKey: (t) => t.id,
          empty: {
            title: "No tokens",
            body: v.device.status === "PENDING" ? "The device gets its first token when it is activated with its activation code." : "Rotate to issue one.",
          },
        })}
        ${canRotate
          ? html`<section class="card narrow section-gap" aria-labelledby="rotate-title">
              <h2 id="rotate-title">Rotate the token</h2>
              <p class="muted">Issues a new token, shown once. With an overlap the current tokens keep working for that long, so the fleet can be updated without a gap.</p>
              <form method="post" action=${`${base(v.device.id)}/tokens/rotate`} class="form">
                ${CsrfField(c)} ${FormAlert({ form })}
                ${SelectField({ name: "overlap_seconds", label: "Overlap", options: OVERLAPS, form, idPrefix: "rotate", value: "0" })}
                <div class="actions"><button class="btn btn-primary" type="submit">Rotate token</button></div>
              </form>
            </section>`
          : null}`,
      { status },
    );
  }

  app.post("/devices/:id/tokens/rotate", async (c) => {
    const v = await loadDevice(c, env, deps);
    if (v instanceof Response) return v;
    const form = await formFields(c);
    let secret: string;
    let overlap: number;
    try {
      const out = await rotateDeviceToken(deps.devices, v.ctx, v.device.id, { overlapSeconds: form.overlap_seconds ?? "0" });
      secret = out.secret;
      overlap = Number(form.overlap_seconds ?? 0) || 0;
    } catch (err) {
      if (err instanceof AppError && err.field === "overlap_seconds") return tokensTab(c, v, formError(err, form, {}, ["overlap_seconds"]), 400);
      return redirectWithError(c, `${base(v.device.id)}/tokens`, err);
    }
    return secretPage(c, v, {
      title: "New token",
      intro: html`A new token for <strong>${v.device.name}</strong>. ${overlap ? `The previous tokens keep working for ${humanDuration(overlap)}, then stop.` : "The previous tokens stopped working just now."}`,
      token: secret,
    });
  });

  app.post("/devices/:id/tokens/:tokenId/revoke", async (c) => {
    const id = c.req.param("id");
    try {
      await revokeDeviceToken(deps.devices, ctxFrom(c), id, c.req.param("tokenId"));
    } catch (err) {
      return redirectWithError(c, `${base(id)}/tokens`, err);
    }
    return redirectWithFlash(c, `${base(id)}/tokens`, { kind: "ok", text: "Token revoked: messages with it are refused from now on." });
  });

  // ---- Alerts ----

  app.get("/devices/:id/alerts", async (c) => {
    const v = await loadDevice(c, env, deps);
    if (v instanceof Response) return v;
    const alerts = await listTenantAlerts({ db: deps.devices.db }, v.ctx, { deviceId: v.device.id, status: "ALL", limit: 50 });
    return devicePage(
      c,
      env,
      v,
      "alerts",
      html`<div class="section-head"><span class="muted">Newest first, open and closed.</span><a href=${`/alerts?device=${encodeURIComponent(v.device.id)}&status=all`}>In the alert inbox →</a></div>
        ${AlertList({
          alerts,
          now: v.now,
          timeZone: v.zone,
          showDevice: false,
          label: `Alerts of ${v.device.id}`,
          empty: { icon: "check", title: "No alerts for this device", body: html`Alerts show here when a rule fires for it or it stops sending. <a href="/alert-rules">Alert rules</a> decide what counts.` },
        })}`,
    );
  });

  // ---- Edit ----

  app.get("/devices/:id/edit", async (c) => {
    const v = await loadDevice(c, env, deps);
    if (v instanceof Response) return v;
    return editPage(c, v, emptyForm(deviceValues(v.device)));
  });

  async function editPage(c: Context<HttpEnv>, v: DeviceView, form: FormState, status = 200): Promise<Response> {
    const sites = await listSites(deps.devices, v.ctx, { limit: 1000 });
    return devicePage(
      c,
      env,
      v,
      "overview",
      html`<section class="card narrow" aria-labelledby="edit-title">
        <h2 id="edit-title">Edit ${v.device.name}</h2>
        <form method="post" action=${`${base(v.device.id)}/edit`} class="form">
          ${CsrfField(c)} ${FormAlert({ form })}
          ${TextField({ name: "name", label: "Name", form, idPrefix: "dev", autocomplete: "off" })}
          ${SelectField({ name: "site_id", label: "Site", form, idPrefix: "dev", options: sites.map((s) => ({ value: s.id, label: s.name === s.id ? s.id : `${s.name} (${s.id})` })) })}
          ${TextAreaField({ name: "tags", label: "Tags", form, idPrefix: "dev", rows: 3, mono: true, required: false, hint: "One key=value per line (or separated by ;).", placeholder: "zone=cold\nline=3" })}
          ${TextField({ name: "heartbeat_seconds", label: "Heartbeat interval (seconds)", form, idPrefix: "dev", required: false, hint: "Empty: the tenant's default. STALE after 2 intervals without a message, OFFLINE after 5." })}
          <div class="inline-fields">
            ${TextField({ name: "model", label: "Model", form, idPrefix: "dev", required: false })} ${TextField({ name: "serial", label: "Serial", form, idPrefix: "dev", required: false })}
          </div>
          <div class="inline-fields">
            ${TextField({ name: "lat", label: "Latitude", form, idPrefix: "dev", required: false })} ${TextField({ name: "lng", label: "Longitude", form, idPrefix: "dev", required: false })}
          </div>
          ${TextField({ name: "parent_device_id", label: "Behind device (gateway)", form, idPrefix: "dev", required: false, hint: "The device it reaches Pulse through; its alerts are held back while that one is offline." })}
          <div class="actions"><button class="btn btn-primary" type="submit">Save</button><a class="btn" href=${base(v.device.id)}>Cancel</a></div>
        </form>
      </section>`,
      { status },
    );
  }

  app.post("/devices/:id/edit", async (c) => {
    const v = await loadDevice(c, env, deps);
    if (v instanceof Response) return v;
    const form = await formFields(c);
    try {
      const tags = parseTagString("tags", (form.tags ?? "").replace(/\r?\n/g, ";"));
      await updateDevice(deps.devices, v.ctx, v.device.id, {
        name: form.name ?? "",
        site_id: form.site_id ?? "",
        tags,
        heartbeat_seconds: form.heartbeat_seconds?.trim() ?? "",
        model: form.model ?? "",
        serial: form.serial ?? "",
        lat: form.lat?.trim() ?? "",
        lng: form.lng?.trim() ?? "",
        parent_device_id: form.parent_device_id?.trim() ?? "",
      });
    } catch (err) {
      if (err instanceof AppError && (err.status === 403 || err.status === 404)) throw err;
      return editPage(c, v, formError(err, form, {}, ["name", "site_id", "tags", "heartbeat_seconds", "model", "serial", "lat", "lng", "parent_device_id"]), 400);
    }
    return redirectWithFlash(c, base(v.device.id), { kind: "ok", text: "Device saved." });
  });

  // ---- Decommission and recommission ----

  app.post("/devices/:id/decommission", async (c) => {
    const id = c.req.param("id");
    const form = await formFields(c);
    let d: Device;
    try {
      d = await decommissionDevice(deps.devices, ctxFrom(c), id, { reason: form.reason ?? "" });
    } catch (err) {
      return redirectWithError(c, base(id), err);
    }
    return redirectWithFlash(c, base(id), { kind: "ok", text: `${d.name} is decommissioned: its tokens are revoked and its messages refused with DEVICE_REVOKED. Its history stays.` });
  });

  app.post("/devices/:id/recommission", async (c) => {
    const id = c.req.param("id");
    let token: string;
    try {
      token = (await recommissionDevice(deps.devices, ctxFrom(c), id)).token;
    } catch (err) {
      return redirectWithError(c, base(id), err);
    }
    const v = await loadDevice(c, env, deps);
    if (v instanceof Response) return v;
    return secretPage(c, v, { title: "Recommissioned", intro: html`<strong>${v.device.name}</strong> is ACTIVE again with a new token. Put it on the device; the old ones stay revoked.`, token });
  });

  function secretPage(c: Context<HttpEnv>, v: DeviceView, p: { title: string; intro: VNode; token: string }): Response {
    // Shown once: never cached, never in a URL or cookie.
    c.header("Cache-Control", "no-store");
    return devicePage(
      c,
      env,
      v,
      "tokens",
      html`<section class="card narrow" data-new-token>
        <h2>${p.title}</h2>
        <p>${p.intro}</p>
        ${Credentials({ endpoint: endpoint(), tenantId: v.ctx.tenantId, deviceId: v.device.id, token: p.token })}
        <div class="actions"><a class="btn btn-primary" href=${`${base(v.device.id)}/tokens`}>Done</a></div>
      </section>`,
      { islands: [COPY_ISLAND] },
    );
  }

  return app;
}

function deviceValues(d: Device): Record<string, string> {
  return {
    name: d.name,
    site_id: d.siteId,
    tags: tagsText(d.tags),
    heartbeat_seconds: d.heartbeatSeconds === null ? "" : String(d.heartbeatSeconds),
    model: d.model ?? "",
    serial: d.serial ?? "",
    lat: d.lat === null ? "" : String(d.lat),
    lng: d.lng === null ? "" : String(d.lng),
    parent_device_id: d.parentDeviceId ?? "",
  };
}

function TokenState(t: DeviceToken, now: Date): VNode {
  if (t.revokedAt) return Badge({ tone: "idle", text: "REVOKED", icon: "dash" });
  if (!t.active) return Badge({ tone: "idle", text: "EXPIRED", icon: "dash" });
  if (t.expiresAt && t.expiresAt > now) return Badge({ tone: "warn", text: "ENDING", icon: "stale", title: "Replaced; works until the overlap ends" });
  return Badge({ tone: "ok", text: "ACTIVE", icon: "check" });
}

// ---- The timeline ----

const str = (v: unknown) => (typeof v === "string" && v.trim() ? v.trim() : undefined);

function describeEvent(e: DeviceEvent, zone: string): { text: string; tone: "ok" | "warn" | "bad" | "idle"; note?: string } {
  const d = e.details ?? {};
  const by = str(d.by) ? ` by ${d.by}` : "";
  switch (e.kind) {
    case "STATUS_CHANGED": {
      const to = String(d.to ?? "");
      return { text: `${String(d.from ?? "?")} → ${to}`, tone: to === "ONLINE" ? "ok" : to === "STALE" ? "warn" : "bad", note: str(d.last_seen_at) ? `Last seen ${absoluteTime(new Date(String(d.last_seen_at)), zone)}.` : "Never seen." };
    }
    case "created":
      return { text: `Registered${by}`, tone: "ok", note: [str(d.via) ? `via ${d.via}` : "", str(d.site_id) ? `at site ${d.site_id}` : "", str(d.status) ? `as ${d.status}` : ""].filter(Boolean).join(" ") || undefined };
    case "updated":
      return { text: `Edited${by}`, tone: "idle", note: Array.isArray(d.fields) && d.fields.length ? `Changed: ${(d.fields as string[]).join(", ")}.` : undefined };
    case "decommissioned":
      return { text: `Decommissioned${by}`, tone: "bad", note: [str(d.reason) ? `“${d.reason}”` : "", typeof d.tokens_revoked === "number" ? `${d.tokens_revoked} token${d.tokens_revoked === 1 ? "" : "s"} revoked.` : ""].filter(Boolean).join(" ") || undefined };
    case "recommissioned":
      return { text: `Recommissioned${by}`, tone: "ok", note: "A new token was issued." };
    case "token_rotated":
      return { text: `Token rotated${by}`, tone: "warn", note: typeof d.overlap_seconds === "number" && d.overlap_seconds > 0 ? `The previous tokens worked ${humanDuration(d.overlap_seconds)} longer.` : "The previous tokens stopped at once." };
    case "token_revoked":
      return { text: `Token revoked${by}`, tone: "warn", note: str(d.token_id) ? `Token ${String(d.token_id).slice(0, 8)}….` : undefined };
    case "activated":
      return { text: "Activated with its code", tone: "ok", note: typeof d.tokens_revoked === "number" && d.tokens_revoked > 0 ? "Re-provisioned: its earlier tokens were revoked." : undefined };
    default: {
      const words = e.kind.toLowerCase().replaceAll("_", " ");
      return { text: words.charAt(0).toUpperCase() + words.slice(1) + by, tone: "idle", note: str(d.reason) ?? str(d.note) };
    }
  }
}

function EventItem(e: DeviceEvent, v: DeviceView): VNode {
  const d = describeEvent(e, v.zone);
  return html`<li class=${`dev-tl-item dev-tl-${d.tone}`} data-event=${e.kind}>
    <span class="dev-tl-dot" aria-hidden="true"></span>
    <div>
      <div class="dev-tl-head"><strong>${d.text}</strong> <span class="muted small">${RelativeTime({ t: e.time, now: v.now, timeZone: v.zone })}</span></div>
      ${d.note ? html`<div class="muted small">${d.note}</div>` : null}
    </div>
  </li>`;
}
