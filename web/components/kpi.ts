// A KPI card: one number people look for first, its label, and optionally a
// hint ("started 3 h ago"), a tone when it is bad news, a sparkline and a link
// to the list behind it.

import { html, type VNode } from "../render.ts";
import type { Tone } from "./badges.ts";

export interface KpiProps {
  label: string;
  value: string | number;
  /** data-kpi attribute, for tests and live counters. */
  name?: string;
  hint?: VNode | string;
  /** Colours the value; only when the number itself is the warning. */
  tone?: Tone;
  href?: string;
  /** Usually a Sparkline. */
  chart?: VNode;
}

export function KpiCard(p: KpiProps): VNode {
  const label = p.href ? html`<a class="kpi-label" href=${p.href}>${p.label}</a>` : html`<span class="kpi-label">${p.label}</span>`;
  return html`<div class=${"card kpi" + (p.tone ? ` kpi-${p.tone}` : "")}>
    ${label}
    <span class="kpi-value" data-kpi=${p.name}>${p.value}</span>
    ${p.hint ? html`<span class="kpi-hint">${p.hint}</span>` : null}
    ${p.chart ? html`<span class="kpi-chart">${p.chart}</span>` : null}
  </div>`;
}

/** A row of KPI cards, labelled for screen readers. */
export function KpiStrip(p: { label: string; children: VNode[] }): VNode {
  return html`<section class="kpis" aria-label=${p.label}>${p.children}</section>`;
}
