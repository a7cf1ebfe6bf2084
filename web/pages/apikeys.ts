// Developer access: the tenant's API keys (for scripts) and OAuth clients
// (for applications with a browser sign-in). Tenant-admins create and revoke
// them; a new key or client secret is shown once, straight from the POST,
// with a copy button and a ready-made curl command.

import { Hono, type Context } from "hono";
import { createApiKey, listApiKeys, revokeApiKey, type ApiKey } from "../../src/auth/apikeys/service.ts";
import type { Auth } from "../../src/auth/index.ts";
import { callerFrom, ctxFrom, principalOf } from "../../src/auth/middleware.ts";
import { createClient, deleteClient, listClients, type OAuthClient } from "../../src/auth/oidc/clients.ts";
import type { HttpEnv } from "../../src/http/env.ts";
import { can, type Ctx } from "../../src/lib/ctx.ts";
import { Badge } from "../components/badges.ts";
import { EmptyState } from "../components/empty.ts";
import {
  CheckboxField,
  ConfirmAction,
  COPY_ISLAND,
  CopyValue,
  CsrfField,
  emptyForm,
  FormAlert,
  formError,
  redirectWithError,
  SecretOnce,
  SelectField,
  TextAreaField,
  TextField,
  type FormState,
} from "../components/form.ts";
import { formFields } from "../components/form-token.ts";
import { absoluteTime, RelativeTime } from "../components/format.ts";
import { PageHeader } from "../components/page-header.ts";
import { redirectWithFlash, renderPage, type PageEnv } from "../components/page.ts";
import { DataTable, type Column } from "../components/table.ts";
import { html, type VNode } from "../render.ts";
import { viewerTimeZone } from "./account.ts";

const EXPIRY = [
  { value: "", label: "Never" },
  { value: "7", label: "In 7 days" },
  { value: "30", label: "In 30 days" },
  { value: "90", label: "In 90 days" },
  { value: "365", label: "In a year" },
];

export function developerPages(env: PageEnv, auth: Auth): Hono<HttpEnv> {
  const app = new Hono<HttpEnv>();
  const deps = { db: auth.db, clock: auth.clock };

  app.get("/developer", (c) => developerPage(c, {}));

  async function developerPage(c: Context<HttpEnv>, forms: { key?: FormState; client?: FormState }, status = 200): Promise<Response> {
    const caller = callerFrom(c);
    const p = principalOf(c);
    const header = PageHeader({
      title: "Developer access",
      description: html`API keys for scripts and OAuth clients for applications, in ${p.tenantName ? html`<strong>${p.tenantName}</strong>` : "a tenant"}. The <a href="/api-docs">API reference</a> lists what they can call.`,
    });
    if (!caller.tenantId || !can(caller, "admin")) {
      const reason = !caller.tenantId
        ? "API keys and OAuth clients belong to a tenant. Choose the tenant to work in (top bar or your account page) to see and manage its keys."
        : `API keys and OAuth clients are managed by the tenant's admins; your role (${caller.role}) may not see them.`;
      return renderPage(
        c,
        env,
        { title: "Developer access", active: "developer", status },
        html`${header}${EmptyState({ title: !caller.tenantId ? "Choose a tenant first" : "Only tenant-admins manage developer access", body: reason, actions: [{ label: "Your account", href: "/account" }] })}`,
      );
    }
    const ctx = caller as Ctx;
    const zone = await viewerTimeZone(auth, p);
    const [keys, clients] = await Promise.all([listApiKeys(deps, ctx), listClients(deps, ctx)]);
    return renderPage(
      c,
      env,
      { title: "Developer access", active: "developer", islands: [COPY_ISLAND], status },
      html`${header}
        <section aria-labelledby="keys-title">
          <div class="section-head"><h2 id="keys-title">API keys</h2></div>
          ${KeysTable(c, keys, zone, auth.clock.now())}
          <div class="section-gap narrow">${KeyForm(c, forms.key)}</div>
        </section>
        <section aria-labelledby="clients-title">
          <div class="section-head"><h2 id="clients-title">OAuth clients</h2></div>
          ${ClientsTable(c, clients, zone, auth.clock.now())}
          <div class="section-gap narrow">${ClientForm(c, forms.client)}</div>
        </section>`,
    );
  }

  app.post("/developer/keys", async (c) => {
    const ctx = ctxFrom(c);
    const form = await formFields(c);
    let created: Awaited<ReturnType<typeof createApiKey>>;
    try {
      created = await createApiKey(deps, ctx, { name: form.name ?? "", role: form.role, expiresInDays: form.expires_in_days || undefined });
    } catch (err) {
      return developerPage(c, { key: formError(err, form, {}, ["name", "role", "expires_in_days"]) }, 400);
    }
    const { key, secret } = created;
    const zone = await viewerTimeZone(auth, principalOf(c));
    const curl = `curl -H "Authorization: Bearer ${secret}" ${auth.publicUrl()}/api/v1/me`;
    c.header("Cache-Control", "no-store");
    return renderPage(
      c,
      env,
      { title: "API key created", active: "developer", islands: [COPY_ISLAND] },
      html`${PageHeader({ title: "API key created" })}
        <section class="card narrow" data-created-key=${key.prefix}>
          <p>
            <strong>${key.name}</strong> acts as <strong>${key.role}</strong> in ${principalOf(c).tenantName ?? ctx.tenantId}${key.expiresAt
              ? `, until ${absoluteTime(key.expiresAt, zone)}`
              : ", until you revoke it"}.
          </p>
          ${SecretOnce({
            id: "api-key",
            label: "API key",
            value: secret,
            warning: "Copy it now: this is the only time Pulse shows it. Only a hash is stored; if it is lost, revoke it and create another.",
          })}
          ${SecretOnce({ id: "curl-example", label: "Try it", value: curl })}
          <p class="muted">The answer names the key, its tenant and its role. Send the same header to any <a href="/api-docs">API</a> call.</p>
          <div class="actions"><a class="btn btn-primary" href="/developer">Done</a></div>
        </section>`,
    );
  });

  app.post("/developer/keys/:id/revoke", async (c) => {
    let key: ApiKey;
    try {
      key = await revokeApiKey(deps, ctxFrom(c), c.req.param("id"));
    } catch (err) {
      return redirectWithError(c, "/developer", err);
    }
    return redirectWithFlash(c, "/developer", { kind: "ok", text: `API key ${key.name} is revoked: requests with it are refused from now on.` });
  });

  app.post("/developer/clients", async (c) => {
    const ctx = ctxFrom(c);
    const form = await formFields(c);
    const uris = (form.redirect_uris ?? "")
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter(Boolean);
    let created: Awaited<ReturnType<typeof createClient>>;
    try {
      created = await createClient(deps, ctx, { name: form.name ?? "", redirectUris: uris, confidential: form.confidential === "on" });
    } catch (err) {
      const state = formError(err, form, {}, ["name", "redirect_uris"]);
      // "redirect_uris.2: must use https" reads better as the line it is on.
      const line = /^redirect_uris\.(\d+)$/.exec((err as { field?: string }).field ?? "");
      if (line && state.errors.redirect_uris) state.errors.redirect_uris = `Line ${Number(line[1]) + 1} (${uris[Number(line[1])]}): ${state.errors.redirect_uris}`;
      return developerPage(c, { client: state }, 400);
    }
    const { client, secret } = created;
    c.header("Cache-Control", "no-store");
    return renderPage(
      c,
      env,
      { title: "OAuth client registered", active: "developer", islands: [COPY_ISLAND] },
      html`${PageHeader({ title: "OAuth client registered" })}
        <section class="card narrow">
          <p><strong>${client.name}</strong> can now sign people of ${principalOf(c).tenantName ?? ctx.tenantId} in with Pulse (authorization code with PKCE).</p>
          <dl class="facts">
            <dt>Client id</dt>
            <dd>${CopyValue({ id: "client-id", value: client.id })}</dd>
            <dt>Discovery</dt>
            <dd>${CopyValue({ id: "discovery", value: `${auth.issuer()}/.well-known/openid-configuration` })}</dd>
            <dt>Redirect URIs</dt>
            <dd>${client.redirectUris.map((u) => html`<div class="mono">${u}</div>`)}</dd>
          </dl>
          ${secret
            ? SecretOnce({ id: "client-secret", label: "Client secret", value: secret, warning: "Copy it now: this is the only time Pulse shows it. If it is lost, remove the client and register it again." })
            : html`<p class="muted">A public client: it has no secret and must use PKCE.</p>`}
          <div class="actions"><a class="btn btn-primary" href="/developer">Done</a></div>
        </section>`,
    );
  });

  app.post("/developer/clients/:id/remove", async (c) => {
    try {
      await deleteClient(deps, ctxFrom(c), c.req.param("id"));
    } catch (err) {
      return redirectWithError(c, "/developer", err);
    }
    return redirectWithFlash(c, "/developer", { kind: "ok", text: "OAuth client removed: it can no longer sign anyone in, and its refresh tokens stopped working." });
  });

  return app;
}

function keyState(k: ApiKey, now: Date): VNode {
  if (k.revokedAt) return Badge({ tone: "idle", text: "REVOKED", icon: "dash" });
  if (k.expiresAt && k.expiresAt <= now) return Badge({ tone: "bad", text: "EXPIRED", icon: "dash" });
  return Badge({ tone: "ok", text: "ACTIVE", icon: "check" });
}

function KeysTable(c: Context<HttpEnv>, keys: ApiKey[], zone: string, now: Date): VNode {
  const columns: Column<ApiKey>[] = [
    { key: "name", label: "Name", cell: (k) => html`<span class="person-name">${k.name}</span>` },
    { key: "prefix", label: "Key", cell: (k) => html`<code>pulse_${k.prefix}_…</code>` },
    { key: "role", label: "Role", cell: (k) => k.role },
    { key: "state", label: "Status", cell: (k) => keyState(k, now) },
    { key: "created", label: "Created", class: "hide-narrow", cell: (k) => RelativeTime({ t: k.createdAt, now, timeZone: zone }) },
    { key: "used", label: "Last used", cell: (k) => (k.lastUsedAt ? RelativeTime({ t: k.lastUsedAt, now, timeZone: zone }) : html`<span class="muted">never</span>`) },
    { key: "expires", label: "Expires", class: "hide-narrow", cell: (k) => (k.expiresAt ? RelativeTime({ t: k.expiresAt, now, timeZone: zone }) : html`<span class="muted">never</span>`) },
    {
      key: "actions",
      label: "",
      cell: (k) =>
        k.revokedAt
          ? null
          : ConfirmAction({
              c,
              label: "Revoke",
              small: true,
              action: `/developer/keys/${k.id}/revoke`,
              message: html`Revoke <strong>${k.name}</strong> (<code>pulse_${k.prefix}_…</code>)? Every script using it gets 401 from now on. This cannot be undone.`,
              confirm: `Revoke ${k.name}`,
            }),
    },
  ];
  return DataTable({
    label: "API keys",
    columns,
    rows: keys,
    url: c.req.url,
    rowKey: (k) => k.id,
    empty: { title: "No API keys yet", body: "Create one below for a script or integration; it is shown once, with a curl command to try it." },
  });
}

function ClientsTable(c: Context<HttpEnv>, clients: OAuthClient[], zone: string, now: Date): VNode {
  const columns: Column<OAuthClient>[] = [
    { key: "name", label: "Name", cell: (o) => html`<span class="person-name">${o.name}</span>` },
    { key: "id", label: "Client id", cell: (o) => html`<code>${o.id}</code>` },
    { key: "type", label: "Type", cell: (o) => (o.confidential ? "confidential (secret)" : "public (PKCE)") },
    { key: "redirects", label: "Redirect URIs", cell: (o) => html`${o.redirectUris.map((u) => html`<div class="mono small">${u}</div>`)}` },
    { key: "created", label: "Created", class: "hide-narrow", cell: (o) => RelativeTime({ t: o.createdAt, now, timeZone: zone }) },
    {
      key: "actions",
      label: "",
      cell: (o) =>
        ConfirmAction({
          c,
          label: "Remove",
          small: true,
          action: `/developer/clients/${o.id}/remove`,
          message: html`Remove <strong>${o.name}</strong>? It can no longer sign anyone in, and the refresh tokens it holds stop working at once. Access tokens it already has expire within minutes.`,
          confirm: `Remove ${o.name}`,
        }),
    },
  ];
  return DataTable({
    label: "OAuth clients",
    columns,
    rows: clients,
    url: c.req.url,
    rowKey: (o) => o.id,
    empty: { title: "No OAuth clients yet", body: "Register an application below (a dashboard, a mobile app) to let people sign in to it with their Pulse account." },
  });
}

function KeyForm(c: Context<HttpEnv>, form = emptyForm({ role: "customer" })): VNode {
  return html`<section class="card" aria-labelledby="new-key-title">
    <h3 id="new-key-title">Create an API key</h3>
    <form method="post" action="/developer/keys" class="form">
      ${CsrfField(c)} ${FormAlert({ form })}
      ${TextField({ name: "name", label: "Name", form, idPrefix: "key", hint: "What uses it, e.g. ci-deploy or grafana.", autocomplete: "off" })}
      ${SelectField({
        name: "role",
        label: "Role",
        form,
        idPrefix: "key",
        value: "customer",
        options: [
          { value: "customer", label: "customer — read and use" },
          { value: "tenant-admin", label: "tenant-admin — also manage users, keys and settings" },
        ],
      })}
      ${SelectField({ name: "expires_in_days", label: "Expires", form, idPrefix: "key", options: EXPIRY, required: false })}
      <div class="actions"><button class="btn btn-primary" type="submit">Create API key</button></div>
    </form>
  </section>`;
}

function ClientForm(c: Context<HttpEnv>, form = emptyForm()): VNode {
  return html`<section class="card" aria-labelledby="new-client-title">
    <h3 id="new-client-title">Register an OAuth client</h3>
    <form method="post" action="/developer/clients" class="form">
      ${CsrfField(c)} ${FormAlert({ form })}
      ${TextField({ name: "name", label: "Name", form, idPrefix: "client", hint: "Shown to people when they sign in to it.", autocomplete: "off" })}
      ${TextAreaField({
        name: "redirect_uris",
        label: "Redirect URIs",
        form,
        idPrefix: "client",
        rows: 3,
        mono: true,
        placeholder: "https://dashboard.example.com/callback",
        hint: "One per line, matched exactly. https, or http only on a loopback address (127.0.0.1, localhost).",
      })}
      ${CheckboxField({ name: "confidential", label: "Confidential: it runs on a server and can keep a secret", form, idPrefix: "client", hint: "Leave unticked for browser and mobile apps." })}
      <div class="actions"><button class="btn btn-primary" type="submit">Register client</button></div>
    </form>
  </section>`;
}
