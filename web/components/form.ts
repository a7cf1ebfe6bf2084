// Forms inside the app: labelled fields that show a service's error next to
// the field it names, the session's CSRF field, a one-step confirmation for
// destructive actions (a <details>, so it needs no script), and the box that
// shows a secret once with a copy button.

import type { Context } from "hono";
import type { HttpEnv } from "../../src/http/env.ts";
import { AppError } from "../../src/lib/errors.ts";
import { html, type VNode } from "../render.ts";
import { redirectWithFlash } from "./page.ts";

/** What a form showed last time: the values typed and the errors per field. */
export interface FormState {
  values: Record<string, string | undefined>;
  errors: Record<string, string>;
  /** An error that names no field of this form. */
  general?: string;
}

export const emptyForm = (values: Record<string, string | undefined> = {}): FormState => ({ values, errors: {} });

/**
 * A service error as form state: `field` picks the input ("redirect_uris.2"
 * belongs to "redirect_uris"), and the "field: " prefix of the message is
 * dropped because the message sits next to the field. `fields` maps service
 * field names to the form's input names where they differ. Anything that is
 * not an AppError with a known field is a general error; non-AppErrors are rethrown.
 */
export function formError(err: unknown, values: FormState["values"], fields: Record<string, string> = {}, known: readonly string[] = []): FormState {
  if (!(err instanceof AppError) || err.status >= 500) throw err;
  const state: FormState = { values, errors: {} };
  const raw = err.field;
  if (raw) {
    const base = raw.split(".")[0]!;
    const input = fields[raw] ?? fields[base] ?? base;
    if (!known.length || known.includes(input)) {
      state.errors[input] = stripField(err.message, raw);
      return state;
    }
  }
  state.general = err.message;
  return state;
}

function stripField(message: string, field: string): string {
  return sentence(message.startsWith(field + ": ") ? message.slice(field.length + 2) : message);
}

/** "must be…" → "Must be…", but "carol@x.test is…" stays as it is. */
export function sentence(message: string): string {
  return /^[a-z]+(\s|$)/.test(message) ? message.charAt(0).toUpperCase() + message.slice(1) : message;
}

/** After a failed inline action (a button in a table row): back to the list with the service's message. */
export function redirectWithError(c: Context<HttpEnv>, to: string, err: unknown): Response {
  if (!(err instanceof AppError) || err.status >= 500) throw err;
  return redirectWithFlash(c, to, { kind: "error", text: sentence(err.message) });
}

/** The hidden field every session form posts. */
export function CsrfField(c: Context<HttpEnv>): VNode {
  return html`<input type="hidden" name="_csrf" value=${c.get("csrf") ?? ""} />`;
}

interface FieldBase {
  name: string;
  label: string;
  form?: FormState;
  /** Shown under the field while there is no error. */
  hint?: VNode | string;
  required?: boolean;
  /** Unique id prefix when a page has two forms with the same field names. */
  idPrefix?: string;
  disabled?: boolean;
}

function describe(p: FieldBase) {
  const id = `${p.idPrefix ?? "f"}-${p.name}`;
  const error = p.form?.errors[p.name];
  return {
    id,
    error,
    attrs: {
      id,
      name: p.name,
      required: p.required,
      disabled: p.disabled,
      "aria-invalid": error ? "true" : undefined,
      "aria-describedby": error ? `${id}-err` : p.hint ? `${id}-hint` : undefined,
    },
  };
}

function Around(p: FieldBase, id: string, error: string | undefined, control: VNode): VNode {
  return html`<div class=${"field" + (error ? " field-invalid" : "")}>
    <label for=${id}>${p.label}${p.required === false ? html` <span class="optional">optional</span>` : null}</label>
    ${control}
    ${p.hint && !error ? html`<div class="hint" id=${`${id}-hint`}>${p.hint}</div>` : null}
    ${error ? html`<div class="field-error" id=${`${id}-err`} role="alert">${error}</div>` : null}
  </div>`;
}

export function TextField(p: FieldBase & { type?: string; value?: string; autocomplete?: string; placeholder?: string; autofocus?: boolean; maxlength?: number }): VNode {
  const { id, error, attrs } = describe(p);
  const value = p.type === "password" ? undefined : (p.form?.values[p.name] ?? p.value);
  return Around(
    p,
    id,
    error,
    html`<input
      ...${attrs}
      type=${p.type ?? "text"}
      value=${value}
      autocomplete=${p.autocomplete}
      placeholder=${p.placeholder}
      autofocus=${p.autofocus || !!error}
      maxlength=${p.maxlength}
    />`,
  );
}

export interface Option {
  value: string;
  label: string;
}

export function SelectField(p: FieldBase & { options: readonly Option[]; value?: string }): VNode {
  const { id, error, attrs } = describe(p);
  const selected = p.form?.values[p.name] ?? p.value ?? "";
  return Around(p, id, error, html`<select ...${attrs}>${p.options.map((o) => html`<option value=${o.value} selected=${o.value === selected}>${o.label}</option>`)}</select>`);
}

export function TextAreaField(p: FieldBase & { value?: string; rows?: number; placeholder?: string; mono?: boolean }): VNode {
  const { id, error, attrs } = describe(p);
  return Around(
    p,
    id,
    error,
    html`<textarea ...${attrs} rows=${p.rows ?? 4} placeholder=${p.placeholder} class=${p.mono ? "mono" : undefined} spellcheck="false">${p.form?.values[p.name] ?? p.value ?? ""}</textarea>`,
  );
}

/** A checkbox; an unchecked box posts nothing, so the handler treats absence as false. */
export function CheckboxField(p: Omit<FieldBase, "required"> & { checked?: boolean }): VNode {
  const { id, error, attrs } = describe({ ...p, required: undefined });
  const checked = p.form && Object.keys(p.form.values).length ? p.form.values[p.name] === "on" : p.checked;
  return html`<div class="field field-check">
    <label for=${id}><input ...${attrs} type="checkbox" checked=${checked} /> ${p.label}</label>
    ${p.hint && !error ? html`<div class="hint" id=${`${id}-hint`}>${p.hint}</div>` : null}
    ${error ? html`<div class="field-error" id=${`${id}-err`} role="alert">${error}</div>` : null}
  </div>`;
}

/** The form's error that belongs to no field, at its top. */
export function FormAlert(p: { form?: FormState }): VNode | null {
  return p.form?.general ? html`<div class="flash flash-error" role="alert">${p.form.general}</div>` : null;
}

/**
 * A destructive action behind one confirmation step: the summary is the
 * button; opening it says exactly what will happen and offers the real
 * button. Works without JavaScript; a second click on the summary closes it.
 */
export function ConfirmAction(p: {
  c: Context<HttpEnv>;
  /** The button that opens the confirmation ("Remove"). */
  label: string;
  action: string;
  /** What will happen, in full. */
  message: VNode | string;
  /** The button that does it ("Remove Bob from Acme"). */
  confirm: string;
  fields?: Record<string, string>;
  /** Danger styling (default true). */
  danger?: boolean;
  small?: boolean;
}): VNode {
  const danger = p.danger ?? true;
  const size = p.small ? " btn-sm" : "";
  return html`<details class="confirm" data-confirm>
    <summary class=${"btn" + (danger ? " btn-danger" : "") + size}>${p.label}</summary>
    <div class="confirm-panel" role="group" aria-label=${p.label}>
      <p>${p.message}</p>
      <form method="post" action=${p.action} class="inline-form">
        ${CsrfField(p.c)}
        ${Object.entries(p.fields ?? {}).map(([k, v]) => html`<input type="hidden" name=${k} value=${v} />`)}
        <button type="submit" class=${"btn" + (danger ? " btn-danger-solid" : " btn-primary") + size}>${p.confirm}</button>
      </form>
    </div>
  </details>`;
}

/**
 * A secret shown once: the value, a copy button (revealed by the copy
 * island), and the warning that it will not be shown again.
 */
export function SecretOnce(p: { id: string; label: string; value: string; warning?: VNode | string; multiline?: boolean }): VNode {
  return html`<div class="secret" data-secret=${p.id}>
    <div class="secret-label" id=${`${p.id}-label`}>${p.label}</div>
    <div class="secret-row">
      ${p.multiline
        ? html`<pre class="secret-value" id=${p.id} aria-labelledby=${`${p.id}-label`} tabindex="0">${p.value}</pre>`
        : html`<code class="secret-value" id=${p.id} aria-labelledby=${`${p.id}-label`} tabindex="0">${p.value}</code>`}
      <button type="button" class="btn" data-copy=${p.id} hidden>Copy</button>
    </div>
    ${p.warning !== undefined ? html`<p class="secret-warning" role="note">${p.warning}</p>` : null}
  </div>`;
}

/** A copyable value that is not secret (a redirect URI, a client id). */
export function CopyValue(p: { id: string; value: string }): VNode {
  return html`<span class="copy-value"><code id=${p.id}>${p.value}</code><button type="button" class="btn btn-ghost btn-sm" data-copy=${p.id} hidden>Copy</button></span>`;
}

/** The islands a page with SecretOnce or CopyValue needs. */
export const COPY_ISLAND = "islands/copy.js";
