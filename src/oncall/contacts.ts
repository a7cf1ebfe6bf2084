// How each person wants to be paged, per tenant: email, a personal Slack or
// Teams incoming webhook, or a signed webhook, each with the least severe
// alert it is used for. Only the person edits their own. URLs are secrets
// (they carry tokens): encrypted at rest and shown as scheme and host only.
// Escalation reads them through contactsForPaging; a person without any is
// paged at their account's email address.

import { SEVERITIES, SEVERITY_RANK, type Severity } from "../alerts/evaluate.ts";
import type { Db, Sql } from "../db/db.ts";
import { withTenant } from "../db/scope.ts";
import type { Clock } from "../lib/clock.ts";
import type { Ctx } from "../lib/ctx.ts";
import { invalid, notFound } from "../lib/errors.ts";
import type { SecretBox } from "../lib/secrets.ts";
import { checkPersonal, displayUrl, PERSONAL_KINDS, type PersonalKind, type RecipientSecrets } from "../notify/personal.ts";
import { deleteContactMethod, findContactMethod, insertContactMethod, listContactMethods, updateContactMethod, type ContactMethodRow } from "./contacts-store.ts";
import { findMembers } from "./store.ts";

export interface ContactDeps {
  db: Db;
  clock: Clock;
  secrets: SecretBox;
}

export type { ContactMethodRow };

export interface ContactInput {
  kind?: unknown;
  /** email: the address. */
  address?: unknown;
  /** slack, teams, webhook: the URL. */
  url?: unknown;
  /** webhook: a Standard Webhooks secret (whsec_…); generated when left out. */
  secret?: unknown;
  min_severity?: unknown;
}

function me(ctx: Ctx): string {
  if (ctx.actor.kind !== "user") throw invalid("actor", "contact methods belong to a person: sign in as one (API keys have none)");
  return ctx.actor.id;
}

function severity(v: unknown, fallback: Severity): Severity {
  if (v === undefined || v === null) return fallback;
  if (!SEVERITIES.includes(v as Severity)) throw invalid("min_severity", `min_severity: one of ${SEVERITIES.join(", ")} (the least severe alert this method is used for)`);
  return v as Severity;
}

/** Address and sealed secrets from input, checked by the channel type of the kind (errors name the field). */
async function destination(deps: ContactDeps, kind: PersonalKind, input: ContactInput): Promise<{ address: string; secrets: string | null; signingSecret?: string }> {
  if (kind === "email") {
    if (typeof input.address !== "string") throw invalid("address", "address: an email address");
    const address = input.address.trim();
    try {
      checkPersonal("email", address, {});
    } catch {
      throw invalid("address", "address: an email address");
    }
    return { address, secrets: null };
  }
  if (typeof input.url !== "string") throw invalid("url", `url: the ${kind === "webhook" ? "webhook" : `${kind} incoming webhook`} URL`);
  const secrets: RecipientSecrets = { url: input.url };
  if (kind === "webhook") secrets.secret = typeof input.secret === "string" && input.secret !== "" ? input.secret : "whsec_" + Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString("base64");
  checkPersonal(kind, "", secrets);
  return { address: displayUrl(input.url), secrets: await deps.secrets.encrypt(JSON.stringify(secrets)), ...(kind === "webhook" && input.secret === undefined ? { signingSecret: secrets.secret } : {}) };
}

/** The caller's contact methods in this tenant. */
export async function listMyContactMethods(deps: ContactDeps, ctx: Ctx): Promise<ContactMethodRow[]> {
  const userId = me(ctx);
  return withTenant(deps.db, ctx, (tx) => listContactMethods(tx, ctx.tenantId, userId));
}

/** Add a way to page the caller; a generated webhook signing secret is returned this once. */
export async function addMyContactMethod(deps: ContactDeps, ctx: Ctx, input: ContactInput): Promise<{ method: ContactMethodRow; signingSecret?: string }> {
  const userId = me(ctx);
  if (!PERSONAL_KINDS.includes(input.kind as PersonalKind)) throw invalid("kind", `kind: one of ${PERSONAL_KINDS.join(", ")}`);
  const kind = input.kind as PersonalKind;
  const dest = await destination(deps, kind, input);
  const minSeverity = severity(input.min_severity, "INFO");
  return withTenant(deps.db, ctx, async (tx) => {
    if ((await listContactMethods(tx, ctx.tenantId, userId)).length >= 20) throw invalid("kind", "kind: at most 20 contact methods per person");
    const method = await insertContactMethod(tx, { tenantId: ctx.tenantId, userId, kind, address: dest.address, secrets: dest.secrets, minSeverity, now: deps.clock.now() });
    return { method, ...(dest.signingSecret ? { signingSecret: dest.signingSecret } : {}) };
  });
}

/** Change one of the caller's methods: its severity, or its address/URL (a URL left out is kept). */
export async function updateMyContactMethod(deps: ContactDeps, ctx: Ctx, id: string, input: ContactInput): Promise<ContactMethodRow> {
  const userId = me(ctx);
  return withTenant(deps.db, ctx, async (tx) => {
    const cur = await findContactMethod(tx, userId, id);
    if (!cur) throw notFound(`contact method ${id}`);
    if (input.kind !== undefined && input.kind !== cur.kind) throw invalid("kind", "kind: cannot change; add a new method instead");
    const changes = cur.kind === "email" ? input.address !== undefined : input.url !== undefined || input.secret !== undefined;
    let dest = { address: cur.address, secrets: cur.secrets };
    if (changes) {
      const old: RecipientSecrets = cur.secrets ? JSON.parse(await deps.secrets.decrypt(cur.secrets)) : {};
      dest = await destination(deps, cur.kind, { ...input, url: input.url ?? old.url, secret: input.secret ?? old.secret });
    }
    return updateContactMethod(tx, cur.id, { ...dest, minSeverity: severity(input.min_severity, cur.min_severity) }, deps.clock.now());
  });
}

export async function deleteMyContactMethod(deps: ContactDeps, ctx: Ctx, id: string): Promise<void> {
  const userId = me(ctx);
  await withTenant(deps.db, ctx, async (tx) => {
    const cur = await findContactMethod(tx, userId, id);
    if (!cur) throw notFound(`contact method ${id}`);
    await deleteContactMethod(tx, cur.id);
  });
}

export interface PagingContact {
  kind: PersonalKind;
  address: string;
  /** Sealed URL secrets, copied as they are into the outbox. */
  secrets: string | null;
  contactMethodId: string | null;
}

/**
 * How to page a person in a tenant for an alert of this severity (inside the
 * caller's transaction): their methods that want it; with no methods at all,
 * their account's email. Not a member (any more): nobody.
 */
export async function contactsForPaging(tx: Sql, tenantId: string, userId: string, alertSeverity: Severity): Promise<{ person: { id: string; username: string } | null; contacts: PagingContact[]; reason?: string }> {
  const [person] = await findMembers(tx, tenantId, [userId]);
  if (!person) return { person: null, contacts: [], reason: "is not an active member of the tenant" };
  const methods = await listContactMethods(tx, tenantId, userId);
  if (!methods.length) {
    return person.email ? { person, contacts: [{ kind: "email", address: person.email, secrets: null, contactMethodId: null }] } : { person, contacts: [], reason: "has no contact method and no email address" };
  }
  const wanted = methods.filter((m) => SEVERITY_RANK[alertSeverity] <= SEVERITY_RANK[m.min_severity]);
  if (!wanted.length) return { person, contacts: [], reason: `has no contact method for ${alertSeverity} alerts` };
  return { person, contacts: wanted.map((m) => ({ kind: m.kind, address: m.address, secrets: m.secrets, contactMethodId: m.id })) };
}
