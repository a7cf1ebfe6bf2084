// Sign-in providers: upstream OpenID Connect providers (Keycloak, Entra ID,
// Google…) people of a tenant sign in with. Tenant-admins manage their
// tenant's; operator-admins also platform-wide ones whose rules map claims to
// tenants and roles. The client secret is write-only. Mapping rules are JSON,
// shown with an example; an error names the rule by its number.

import { Hono, type Context } from "hono";
import { CALLBACK_PATH, createProvider, deleteIdentityProvider, listIdentityProviders, updateIdentityProvider, type IdentityProvider, type ProviderInput } from "../../src/auth/federation/service.ts";
import type { Auth } from "../../src/auth/index.ts";
import { callerFrom } from "../../src/auth/middleware.ts";
import type { HttpEnv } from "../../src/http/env.ts";
import { can, type Caller } from "../../src/lib/ctx.ts";
import { AppError, invalid, notFound } from "../../src/lib/errors.ts";
import { Badge } from "../components/badges.ts";
import {
  CheckboxField,
  ConfirmAction,
  COPY_ISLAND,
  CopyValue,
  CsrfField,
  FormAlert,
  formError,
  redirectWithError,
  SelectField,
  TextAreaField,
  TextField,
  type FormState,
} from "../components/form.ts";
import { formFields } from "../components/form-token.ts";
import { PageHeader } from "../components/page-header.ts";
import { redirectWithFlash, renderPage, type PageEnv } from "../components/page.ts";
import { DataTable, type Column } from "../components/table.ts";
import { html } from "../render.ts";

const FIELDS = ["slug", "name", "issuer", "client_id", "client_secret", "scopes", "mappings", "default_role", "scope", "jit", "enabled"];

const TENANT_EXAMPLE = `[
  { "claim": "groups", "equals": "pulse-admins", "role": "tenant-admin" }
]`;
const PLATFORM_EXAMPLE = `[
  { "claim": "groups", "equals": "acme-ops", "tenant": "acme", "role": "tenant-admin" },
  { "claim": "groups", "equals": "noc", "platform_role": "operator" }
]`;

/** Whether the caller may change this provider (mirrors the service's rule). */
function manages(caller: Caller, p: IdentityProvider): boolean {
  return p.tenantId === null ? can(caller, "platform-admin") : (p.tenantId === caller.tenantId && can(caller, "admin")) || can(caller, "platform-admin");
}

function canAdd(caller: Caller): boolean {
  return can(caller, "platform-admin") || (!!caller.tenantId && can(caller, "admin"));
}

export function identityProviderPages(env: PageEnv, auth: Auth): Hono<HttpEnv> {
  const app = new Hono<HttpEnv>();
  const deps = auth.federation;
  const callback = () => auth.publicUrl() + CALLBACK_PATH;

  app.get("/identity-providers", async (c) => {
    const caller = callerFrom(c);
    const providers = await listIdentityProviders(deps, caller);
    const columns: Column<IdentityProvider>[] = [
      { key: "name", label: "Provider", cell: (p) => html`<span class="person-name">${p.name}</span> <span class="muted mono">${p.slug}</span>` },
      { key: "scope", label: "For", cell: (p) => (p.tenantId ? html`tenant <span class="mono">${p.tenantId}</span>` : Badge({ tone: "accent", text: "PLATFORM" })) },
      { key: "issuer", label: "Issuer", class: "hide-narrow", cell: (p) => html`<span class="mono small">${p.issuer}</span>` },
      {
        key: "roles",
        label: "Roles from",
        cell: (p) => `${p.mappings.length} rule${p.mappings.length === 1 ? "" : "s"}${p.defaultRole ? `, else ${p.defaultRole}` : ""}`,
      },
      { key: "jit", label: "New people", cell: (p) => (p.jit ? "created on first sign-in" : "must be invited") },
      { key: "enabled", label: "Status", cell: (p) => (p.enabled ? Badge({ tone: "ok", text: "ENABLED", icon: "check" }) : Badge({ tone: "idle", text: "DISABLED", icon: "dash" })) },
    ];
    return renderPage(
      c,
      env,
      { title: "Sign-in providers", active: "identity-providers", islands: [COPY_ISLAND] },
      html`${PageHeader({
          title: "Sign-in providers",
          description: "Company identity providers (OpenID Connect) people sign in with instead of a Pulse password.",
          actions: canAdd(caller) ? html`<a class="btn btn-primary" href="/identity-providers/new">Add provider</a>` : undefined,
        })}
        <p class="callout">Register this redirect URI at the provider: ${CopyValue({ id: "callback-uri", value: callback() })}</p>
        ${DataTable({
          label: "Sign-in providers",
          columns,
          rows: providers,
          url: c.req.url,
          rowHref: (p) => `/identity-providers/${p.id}`,
          rowKey: (p) => p.id,
          empty: {
            title: "No sign-in providers yet",
            body: "Add your company's provider (Keycloak, Entra ID, Google Workspace…) so people sign in with their company account; until then they use Pulse passwords.",
            actions: canAdd(caller) ? [{ label: "Add provider", href: "/identity-providers/new", primary: true }] : [],
          },
        })}`,
    );
  });

  app.get("/identity-providers/new", (c) => {
    const caller = callerFrom(c);
    if (!canAdd(caller)) throw new AppError("forbidden", `your role (${caller.role}) may not add sign-in providers`);
    return editPage(c, undefined, {
      values: { scope: caller.tenantId ? "tenant" : "platform", scopes: "openid profile email", default_role: caller.tenantId ? "customer" : "", jit: "on", enabled: "on" },
      errors: {},
    });
  });

  app.get("/identity-providers/:id", async (c) => {
    const p = await findProvider(c, c.req.param("id"));
    return editPage(c, p, {
      values: {
        name: p.name,
        issuer: p.issuer,
        client_id: p.clientId,
        scopes: p.scopes,
        mappings: rulesText(p.mappings),
        default_role: p.defaultRole ?? "",
        jit: p.jit ? "on" : undefined,
        enabled: p.enabled ? "on" : undefined,
      },
      errors: {},
    });
  });

  async function findProvider(c: Context<HttpEnv>, id: string): Promise<IdentityProvider> {
    const p = (await listIdentityProviders(deps, callerFrom(c))).find((x) => x.id === id);
    if (!p) throw notFound(`sign-in provider ${id}`);
    return p;
  }

  function editPage(c: Context<HttpEnv>, p: IdentityProvider | undefined, form: FormState, status = 200): Response {
    const caller = callerFrom(c);
    const editable = p ? manages(caller, p) : canAdd(caller);
    const platform = p ? p.tenantId === null : form.values.scope === "platform";
    const title = p ? p.name : "Add a sign-in provider";
    return renderPage(
      c,
      env,
      { title, active: "identity-providers", islands: [COPY_ISLAND], status },
      html`${PageHeader({
          title,
          description: html`<a href="/identity-providers">All sign-in providers</a>${p ? html` · ${p.tenantId ? html`tenant <span class="mono">${p.tenantId}</span>` : "platform-wide"}` : null}`,
        })}
        <div class="columns wide-first">
          <section class="card">
            <form method="post" action=${p ? `/identity-providers/${p.id}` : "/identity-providers"} class="form">
              ${CsrfField(c)} ${FormAlert({ form })}
              <fieldset disabled=${!editable} class="plain-fieldset">
                ${!editable ? html`<p class="muted">Read-only: your role may not change this provider.</p>` : null}
                ${!p && can(caller, "platform-admin")
                  ? SelectField({
                      name: "scope",
                      label: "For",
                      form,
                      options: [
                        ...(caller.tenantId ? [{ value: "tenant", label: `This tenant only (${caller.tenantId})` }] : []),
                        { value: "platform", label: "Every tenant (platform-wide; rules choose tenant and role)" },
                      ],
                    })
                  : null}
                ${p
                  ? html`<div class="field"><span class="label-like">Slug</span><span class="mono">${p.slug}</span></div>`
                  : TextField({ name: "slug", label: "Slug", form, hint: "In the sign-in URL, e.g. acme-keycloak. Lowercase letters, digits and -.", autocomplete: "off" })}
                ${TextField({ name: "name", label: "Name", form, hint: "On the sign-in button: “Sign in with …”." })}
                ${TextField({ name: "issuer", label: "Issuer URL", form, type: "url", hint: "Its discovery document must be reachable from this server, e.g. https://keycloak.example.com/realms/ops.", autocomplete: "off" })}
                ${TextField({ name: "client_id", label: "Client id", form, autocomplete: "off", hint: "The client Pulse is registered as at the provider." })}
                ${TextField({
                  name: "client_secret",
                  label: "Client secret",
                  type: "password",
                  form,
                  required: false,
                  autocomplete: "new-password",
                  hint: p ? (p.hasSecret ? "A secret is stored (never shown). Leave empty to keep it." : "None stored (a public client). Leave empty to keep it that way.") : "Stored encrypted; never shown again. Leave empty for a public client.",
                })}
                ${p?.hasSecret ? CheckboxField({ name: "clear_secret", label: "Remove the stored secret", form: { values: {}, errors: {} } }) : null}
                ${TextField({ name: "scopes", label: "Scopes", form, hint: "Space-separated; must include openid." })}
                ${TextAreaField({
                  name: "mappings",
                  label: "Mapping rules (JSON)",
                  form,
                  required: false,
                  rows: 6,
                  mono: true,
                  placeholder: platform ? PLATFORM_EXAMPLE : TENANT_EXAMPLE,
                  hint: html`${`The first rule whose claim equals (or, for a list, contains) the value grants its role. ${platform ? "Platform rules name the tenant, or grant a platform_role." : "Roles: customer or tenant-admin."} Example:`}
                    <pre class="example">${platform ? PLATFORM_EXAMPLE : TENANT_EXAMPLE}</pre>`,
                })}
                ${SelectField({
                  name: "default_role",
                  label: "Default role",
                  form,
                  required: false,
                  options: platform
                    ? [{ value: "", label: "None (platform providers map roles by rules only)" }]
                    : [
                        { value: "customer", label: "customer" },
                        { value: "tenant-admin", label: "tenant-admin" },
                        { value: "", label: "None: only people a rule matches may sign in" },
                      ],
                  hint: "For people no rule matches.",
                })}
                ${CheckboxField({ name: "jit", label: "Create accounts on first sign-in", form, hint: "Unticked: only people already linked (or invited) may sign in." })}
                ${CheckboxField({ name: "enabled", label: "Enabled (shown on the sign-in page)", form })}
                ${editable ? html`<div class="actions"><button class="btn btn-primary" type="submit">${p ? "Save" : "Add provider"}</button></div>` : null}
              </fieldset>
            </form>
          </section>
          <aside class="card" aria-labelledby="setup-title">
            <h2 id="setup-title">At the provider</h2>
            <p>Register Pulse as a client (authorization code flow, with PKCE) with this redirect URI:</p>
            <p>${CopyValue({ id: "callback", value: callback() })}</p>
            ${p?.tenantId ? html`<p>People of <span class="mono">${p.tenantId}</span> find it under “Sign in with your company”, or directly at <code>/login/sso?tenant=${p.tenantId}</code>.</p>` : null}
            ${p && !p.tenantId ? html`<p>Platform providers are offered on the sign-in page to everyone.</p>` : null}
            ${p && editable
              ? html`<h3>Remove</h3>
                  ${ConfirmAction({
                    c,
                    label: "Remove provider…",
                    action: `/identity-providers/${p.id}/delete`,
                    message: html`Remove <strong>${p.name}</strong>? Nobody can sign in with it any more, from now on. Accounts it created stay; people without a Pulse password then need a reset link to sign in.`,
                    confirm: `Remove ${p.name}`,
                  })}`
              : null}
          </aside>
        </div>`,
    );
  }

  app.post("/identity-providers", async (c) => {
    const caller = callerFrom(c);
    const form = await formFields(c);
    let created: IdentityProvider;
    try {
      created = await createProvider(deps, caller, { ...inputFrom(form), slug: form.slug ?? "", scope: form.scope === "platform" ? "platform" : "tenant" });
    } catch (err) {
      return editPage(c, undefined, providerError(err, form), 400);
    }
    return redirectWithFlash(c, `/identity-providers/${created.id}`, { kind: "ok", text: `${created.name} added. Register the redirect URI at the provider if you have not yet.` });
  });

  app.post("/identity-providers/:id", async (c) => {
    const p = await findProvider(c, c.req.param("id"));
    const form = await formFields(c);
    try {
      await updateIdentityProvider(deps, callerFrom(c), p.id, inputFrom(form, p));
    } catch (err) {
      return editPage(c, p, providerError(err, form), 400);
    }
    return redirectWithFlash(c, `/identity-providers/${p.id}`, { kind: "ok", text: `${p.name} saved.` });
  });

  app.post("/identity-providers/:id/delete", async (c) => {
    const id = c.req.param("id");
    try {
      await deleteIdentityProvider(deps, callerFrom(c), id);
    } catch (err) {
      return redirectWithError(c, "/identity-providers", err);
    }
    return redirectWithFlash(c, "/identity-providers", { kind: "ok", text: "Sign-in provider removed." });
  });

  return app;
}

/** Rules one per line, keys in reading order: claim, equals, then what they grant. */
function rulesText(rules: IdentityProvider["mappings"]): string {
  if (!rules.length) return "";
  const line = (r: IdentityProvider["mappings"][number]) =>
    JSON.stringify({ claim: r.claim, equals: r.equals, ...(r.tenant ? { tenant: r.tenant } : {}), ...(r.role ? { role: r.role } : {}), ...(r.platform_role ? { platform_role: r.platform_role } : {}) }).replaceAll('","', '", "').replaceAll('":"', '": "');
  return `[\n${rules.map((r) => "  " + line(r)).join(",\n")}\n]`;
}

/** The form as the service's input. On edit an empty secret keeps the stored one. */
function inputFrom(form: Record<string, string | undefined>, existing?: IdentityProvider): ProviderInput {
  let mappings: unknown = [];
  const text = (form.mappings ?? "").trim();
  if (text) {
    try {
      mappings = JSON.parse(text);
    } catch (err) {
      throw invalid("mappings", `mappings: not valid JSON (${(err as Error).message})`);
    }
    if (!Array.isArray(mappings)) throw invalid("mappings", "mappings: a JSON list of rules, [ {…}, {…} ]");
  }
  const secret = form.client_secret ?? "";
  return {
    name: form.name ?? "",
    issuer: form.issuer ?? "",
    clientId: form.client_id ?? "",
    clientSecret: existing ? (form.clear_secret === "on" ? "" : secret || undefined) : secret || undefined,
    scopes: form.scopes ?? "",
    mappings,
    defaultRole: form.default_role ? form.default_role : null,
    jit: form.jit === "on",
    enabled: form.enabled === "on",
  };
}

/** A service error on the form; errors inside a rule say which rule ("Rule 2: …"). */
function providerError(err: unknown, values: FormState["values"]): FormState {
  const field = err instanceof AppError ? err.field : undefined;
  const state = formError(err, values, {}, FIELDS);
  const rule = field ? /^mappings\.(\d+)(?:\.(\w+))?$/.exec(field) : null;
  if (rule && err instanceof AppError) {
    const what = err.message.replace(/^[^:]*: /, "");
    state.errors.mappings = `Rule ${Number(rule[1]) + 1}${rule[2] ? `, "${rule[2]}"` : ""}: ${what} (${field})`;
  }
  return state;
}
