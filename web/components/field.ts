// A labelled field around any control, for the controls form.ts does not
// build (an amount with a unit, a multi-select, checkbox groups, inputs with
// a datalist): the same markup, so the error sits next to the field and is
// announced, exactly like the fields in form.ts.

import { html, type VNode } from "../render.ts";
import type { FormState } from "./form.ts";

export interface FieldShellProps {
  /** The id of the labelled control. */
  id: string;
  label: string;
  /** The form state key whose error shows here. */
  name: string;
  form?: FormState;
  hint?: VNode | string;
  optional?: boolean;
  children: VNode | VNode[];
  class?: string;
}

export function FieldShell(p: FieldShellProps): VNode {
  const error = p.form?.errors[p.name];
  return html`<div class=${["field", error ? "field-invalid" : "", p.class ?? ""].filter(Boolean).join(" ")}>
    <label for=${p.id}>${p.label}${p.optional ? html` <span class="optional">optional</span>` : null}</label>
    ${p.children}
    ${p.hint && !error ? html`<div class="hint" id=${`${p.id}-hint`}>${p.hint}</div>` : null}
    ${error ? html`<div class="field-error" id=${`${p.id}-err`} role="alert">${error}</div>` : null}
  </div>`;
}

/** aria attributes a control inside FieldShell carries. */
export function fieldAria(p: { id: string; name: string; form?: FormState; hint?: unknown }): Record<string, string | undefined> {
  const error = p.form?.errors[p.name];
  return { "aria-invalid": error ? "true" : undefined, "aria-describedby": error ? `${p.id}-err` : p.hint ? `${p.id}-hint` : undefined };
}

export const UNITS = [
  { value: "s", label: "seconds", seconds: 1 },
  { value: "min", label: "minutes", seconds: 60 },
  { value: "h", label: "hours", seconds: 3600 },
] as const;

/** An amount of time as a number and a unit; posts `<name>` and `<name>_unit`. */
export function DurationField(p: { name: string; label: string; form?: FormState; idPrefix?: string; hint?: VNode | string; optional?: boolean; min?: number }): VNode {
  const id = `${p.idPrefix ?? "f"}-${p.name}`;
  const unit = p.form?.values[`${p.name}_unit`] ?? "min";
  return FieldShell({
    id,
    label: p.label,
    name: p.name,
    form: p.form,
    hint: p.hint,
    optional: p.optional,
    children: html`<span class="amount-unit">
      <input id=${id} name=${p.name} type="text" inputmode="decimal" value=${p.form?.values[p.name] ?? ""} autocomplete="off" ...${fieldAria({ id, name: p.name, form: p.form, hint: p.hint })} />
      <select name=${`${p.name}_unit`} aria-label=${`${p.label}: unit`}>
        ${UNITS.map((u) => html`<option value=${u.value} selected=${u.value === unit}>${u.label}</option>`)}
      </select>
    </span>`,
  });
}

/** Seconds from a DurationField's two values: empty → undefined, unreadable → NaN (the service names the field). */
export function durationSeconds(amount: string | undefined, unit: string | undefined): number | undefined {
  if (amount === undefined || amount.trim() === "") return undefined;
  const n = Number(amount.trim().replace(",", "."));
  const factor = UNITS.find((u) => u.value === unit)?.seconds ?? 60;
  return Number.isFinite(n) ? Math.round(n * factor * 1000) / 1000 : NaN;
}

/** A duration in seconds as the amount and unit a DurationField shows (the largest unit that divides it). */
export function durationValues(name: string, seconds: number): Record<string, string> {
  const unit = seconds !== 0 && seconds % 3600 === 0 ? "h" : seconds % 60 === 0 ? "min" : "s";
  const factor = UNITS.find((u) => u.value === unit)!.seconds;
  return { [name]: String(seconds / factor), [`${name}_unit`]: unit };
}
