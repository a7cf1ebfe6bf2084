// Creating and editing a notification channel: choose a type, then its own
// form (web/components/channel-forms.ts) with every refusal next to the
// field it names. Secrets are write-only: an edit that leaves them empty
// keeps them. A webhook's signing secret — made by Pulse when none is given,
// or by a rotation — is shown once, with how to verify signatures; during a
// rotation the previous secret keeps signing until it is removed.

import { Hono, type Context } from "hono";
import { ctxFrom } from "../../src/auth/middleware.ts";
import type { HttpEnv } from "../../src/http/env.ts";
import { requirePermission } from "../../src/lib/ctx.ts";
import { createNotificationChannel, getNotificationChannel, rotateWebhookSecret, updateNotificationChannel, type Channel } from "../../src/notify/service.ts";
import { ChannelFields, CHANNEL_FORMS, channelForm, defaultValues, settingsFromForm, TypeMark, withoutSecrets, type ChannelForm } from "../components/channel-forms.ts";
import { ConfirmAction, COPY_ISLAND, CsrfField, emptyForm, FormAlert, formError, redirectWithError, SecretOnce, TextField, type FormState } from "../components/form.ts";
import { PageHeader } from "../components/page-header.ts";
import { redirectWithFlash, renderPage, type PageEnv } from "../components/page.ts";
import { postedValues } from "../components/scope.ts";
import { html, type VNode } from "../render.ts";
import type { NotifyPageDeps } from "./notifications-common.ts";

export function channelFormPages(env: PageEnv, deps: NotifyPageDeps): Hono<HttpEnv> {
  const app = new Hono<HttpEnv>();
  const { notify } = deps;

  app.get("/notifications/channels/new", (c) => {
    requirePermission(ctxFrom(c), "admin", "add notification channels");
    const form = channelForm(c.req.query("type") ?? "");
    if (!form) return chooser(c);
    return formPage(c, form, undefined, emptyForm({ ...defaultValues(form), type: form.type }));
  });

  app.post("/notifications/channels", async (c) => {
    const ctx = ctxFrom(c);
    const values = await postedValues(c);
    const form = channelForm(values.type ?? "");
    if (!form) return redirectWithFlash(c, "/notifications/channels/new", { kind: "error", text: "Choose the kind of channel first." });
    let channel: Awaited<ReturnType<typeof createNotificationChannel>>;
    try {
      channel = await createNotificationChannel(notify, ctx, { name: values.name ?? "", type: form.type, settings: settingsFromForm(form, values) });
    } catch (err) {
      return formPage(c, form, undefined, formError(err, withoutSecrets(form, values), {}, known(form)), 400);
    }
    const generated = channel.generatedSecret;
    if (!generated) return redirectWithFlash(c, `/notifications/channels/${channel.id}`, { kind: "ok", text: `Created “${channel.name}”. Send a test to see that it arrives.` });
    return secretPage(c, channel, generated, "created");
  });

  app.get("/notifications/channels/:id/edit", async (c) => {
    const ctx = ctxFrom(c);
    requirePermission(ctx, "admin", "change notification channels");
    const ch = await getNotificationChannel(notify, ctx, c.req.param("id"));
    const form = channelForm(ch.type);
    if (!form) return redirectWithFlash(c, `/notifications/channels/${ch.id}`, { kind: "error", text: `This version cannot edit ${ch.type} channels.` });
    return formPage(c, form, ch, emptyForm({ name: ch.name, ...form.values(ch.config) }));
  });

  app.post("/notifications/channels/:id", async (c) => {
    const ctx = ctxFrom(c);
    const ch = await getNotificationChannel(notify, ctx, c.req.param("id"));
    const form = channelForm(ch.type);
    if (!form) return redirectWithFlash(c, `/notifications/channels/${ch.id}`, { kind: "error", text: `This version cannot edit ${ch.type} channels.` });
    const values = await postedValues(c);
    let saved: Channel;
    try {
      saved = await updateNotificationChannel(notify, ctx, ch.id, { name: values.name ?? "", settings: settingsFromForm(form, values) });
    } catch (err) {
      return formPage(c, form, ch, formError(err, withoutSecrets(form, values), {}, known(form)), 400);
    }
    return redirectWithFlash(c, `/notifications/channels/${saved.id}`, { kind: "ok", text: `Saved “${saved.name}”. Secrets left empty were kept.` });
  });

  app.post("/notifications/channels/:id/rotate", async (c) => {
    const id = c.req.param("id");
    let rotated: Awaited<ReturnType<typeof rotateWebhookSecret>>;
    try {
      rotated = await rotateWebhookSecret(notify, ctxFrom(c), id);
    } catch (err) {
      return redirectWithError(c, `/notifications/channels/${id}`, err);
    }
    return secretPage(c, rotated.channel, rotated.secret, "rotated");
  });

  app.post("/notifications/channels/:id/previous-secret/remove", async (c) => {
    const id = c.req.param("id");
    try {
      await updateNotificationChannel(notify, ctxFrom(c), id, { settings: { previous_secret: null } });
    } catch (err) {
      return redirectWithError(c, `/notifications/channels/${id}`, err);
    }
    return redirectWithFlash(c, `/notifications/channels/${id}`, { kind: "ok", text: "The previous secret no longer signs: only the current one does." });
  });

  function chooser(c: Context<HttpEnv>): Response {
    return renderPage(
      c,
      env,
      { title: "New channel", active: "notifications" },
      html`<nav class="breadcrumbs" aria-label="Breadcrumbs"><a href="/notifications">Notifications</a><span aria-hidden="true"> / </span><span>New channel</span></nav>
        ${PageHeader({ title: "New channel", description: "Where should notifications go? Choose the kind of receiver; its settings come next." })}
        <ul class="type-choices">
          ${CHANNEL_FORMS.map(
            (f) => html`<li>
              <a class="type-choice card" href=${`/notifications/channels/new?type=${f.type}`} data-choose-type=${f.type}>
                <span class="type-choice-name">${TypeMark({ type: f.type })}</span>
                <span class="muted small">${f.summary}</span>
              </a>
            </li>`,
          )}
        </ul>`,
    );
  }

  function formPage(c: Context<HttpEnv>, form: ChannelForm, ch: Channel | undefined, state: FormState, status = 200): Response {
    const title = ch ? `Edit ${ch.name}` : `New ${form.label} channel`;
    return renderPage(
      c,
      env,
      { title, active: "notifications", status },
      html`<nav class="breadcrumbs" aria-label="Breadcrumbs">
          <a href="/notifications">Notifications</a><span aria-hidden="true"> / </span>
          ${ch ? html`<a href=${`/notifications/channels/${ch.id}`}>${ch.name}</a><span aria-hidden="true"> / </span><span>Edit</span>` : html`<a href="/notifications/channels/new">New channel</a><span aria-hidden="true"> / </span><span>${form.label}</span>`}
        </nav>
        ${PageHeader({ title, description: html`${TypeMark({ type: form.type })} — ${form.summary}` })}
        <form method="post" action=${ch ? `/notifications/channels/${ch.id}` : "/notifications/channels"} class="form channel-form card" novalidate>
          ${CsrfField(c)} ${ch ? null : html`<input type="hidden" name="type" value=${form.type} />`} ${FormAlert({ form: state })}
          ${TextField({ name: "name", label: "Name", form: state, idPrefix: "ch", placeholder: "Ops on-call", maxlength: 200, hint: "How people recognise it in lists and the delivery log." })}
          ${ChannelFields({ form, state, secretsSet: ch?.secretsSet })}
          <div class="actions">
            <button class="btn btn-primary" type="submit">${ch ? "Save channel" : "Create channel"}</button>
            <a class="btn btn-ghost" href=${ch ? `/notifications/channels/${ch.id}` : "/notifications/channels/new"}>Cancel</a>
          </div>
        </form>`,
    );
  }

  function secretPage(c: Context<HttpEnv>, ch: Channel, secret: string, why: "created" | "rotated"): Response {
    c.header("Cache-Control", "no-store");
    const title = why === "created" ? "Channel created" : "New signing secret";
    return renderPage(
      c,
      env,
      { title, active: "notifications", islands: [COPY_ISLAND] },
      html`${PageHeader({ title })}
        <section class="card narrow" data-secret-page=${why}>
          <p>
            ${why === "created"
              ? html`<strong>${ch.name}</strong> is ready. Pulse signs every request to it with this secret:`
              : html`<strong>${ch.name}</strong> now signs with this secret. The previous one keeps signing too (two signatures per request) until you remove it, so receivers can switch over.`}
          </p>
          ${SecretOnce({
            id: "webhook-secret",
            label: "Signing secret",
            value: secret,
            warning: "Copy it now into the receiver: this is the only time Pulse shows it. If it is lost, rotate the secret.",
          })}
          ${VerifyHowTo()}
          <div class="actions">
            <form method="post" action=${`/notifications/channels/${ch.id}/test`} class="inline-form">${CsrfField(c)}<button class="btn" type="submit" data-action="test">Send test</button></form>
            <a class="btn btn-primary" href=${`/notifications/channels/${ch.id}`}>Done</a>
          </div>
        </section>`,
    );
  }

  return app;
}

const known = (form: ChannelForm) => ["name", ...form.fields.map((f) => f.name)];

/** How a receiver checks a Pulse webhook (Standard Webhooks). */
function VerifyHowTo(): VNode {
  return html`<details class="verify-howto">
    <summary>How to verify the signature</summary>
    <p class="small">
      Every request carries <code>webhook-id</code> (the same on every retry: use it to drop duplicates), <code>webhook-timestamp</code> and
      <code>webhook-signature</code>: <code>v1,</code> and the base64 HMAC-SHA256 of <code>id.timestamp.body</code>, keyed with the secret's bytes after
      <code>whsec_</code>. During a rotation there are two signatures, separated by a space; accept the request if one matches, and refuse old timestamps (over 5 minutes).
      Any <a href="https://www.standardwebhooks.com/" rel="noreferrer">Standard Webhooks</a> library does this:
    </p>
    <pre class="setting-text">import { Webhook } from "standardwebhooks";

const wh = new Webhook(process.env.PULSE_WEBHOOK_SECRET); // whsec_…
// Throws unless a signature matches and the timestamp is recent.
const event = wh.verify(rawBody, {
  "webhook-id": headers["webhook-id"],
  "webhook-timestamp": headers["webhook-timestamp"],
  "webhook-signature": headers["webhook-signature"],
});</pre>
  </details>`;
}

/** The webhook channel's signing: how to verify, whether a rotation is under way, and the rotation itself. */
export function WebhookVerify(p: { c: Context<HttpEnv>; ch: Channel; admin: boolean }): VNode {
  const rotating = p.ch.secretsSet.includes("previous_secret");
  return html`<section class="card" aria-labelledby="verify-title" data-webhook-signing>
    <h2 id="verify-title">Signatures</h2>
    <p>
      ${rotating
        ? html`Requests carry <strong>two signatures</strong>: the current secret's and the previous one's, until the previous one is removed.`
        : html`Requests are signed with the channel's secret (Standard Webhooks), which was shown once when it was made.`}
    </p>
    ${VerifyHowTo()}
    ${p.admin
      ? html`<div class="actions">
          ${ConfirmAction({
            c: p.c,
            label: "Rotate secret",
            danger: false,
            small: true,
            action: `/notifications/channels/${p.ch.id}/rotate`,
            message: html`Pulse makes a new signing secret and shows it once. The current one keeps signing too until you remove it, so the receiver can switch without missing anything.${rotating
              ? " The older previous secret stops signing now."
              : ""}`,
            confirm: "Make a new secret",
          })}
          ${rotating
            ? ConfirmAction({
                c: p.c,
                label: "Remove the previous secret",
                small: true,
                action: `/notifications/channels/${p.ch.id}/previous-secret/remove`,
                message: "Requests will carry only the current secret's signature. Receivers still checking with the previous secret start refusing them.",
                confirm: "Remove the previous secret",
              })
            : null}
        </div>`
      : null}
  </section>`;
}
