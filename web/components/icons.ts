// A few 16×16 SVG icons drawn in currentColor, so they take the colour of the
// word beside them. Decorative: the word carries the meaning (aria-hidden).

import { html, type VNode } from "../render.ts";

const SHAPES = {
  // Status: filled dot, half dot, slashed ring; shapes differ, not only colour.
  online: () => html`<circle cx="8" cy="8" r="5" />`,
  stale: () => html`<circle cx="8" cy="8" r="4.75" fill="none" stroke="currentColor" stroke-width="2" /><path d="M8 3.25a4.75 4.75 0 0 0 0 9.5z" />`,
  offline: () => html`<circle cx="8" cy="8" r="4.75" fill="none" stroke="currentColor" stroke-width="2" /><path d="M3.5 12.5l9-9" stroke="currentColor" stroke-width="2" />`,
  // Severity: an exclamation block, then signal bars (3, 2, 1), then "i".
  critical: () => html`<path fill-rule="evenodd" d="M3 1h10a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H3a2 2 0 0 1-2-2V3a2 2 0 0 1 2-2zM7 3.5v6h2v-6zM7 10.75v2h2v-2z" />`,
  high: () => html`<rect x="1.5" y="9" width="3" height="5" rx="0.75" /><rect x="6.5" y="5.5" width="3" height="8.5" rx="0.75" /><rect x="11.5" y="2" width="3" height="12" rx="0.75" />`,
  medium: () => html`<rect x="1.5" y="9" width="3" height="5" rx="0.75" /><rect x="6.5" y="5.5" width="3" height="8.5" rx="0.75" /><rect x="11.5" y="2" width="3" height="12" rx="0.75" opacity="0.3" />`,
  low: () => html`<rect x="1.5" y="9" width="3" height="5" rx="0.75" /><rect x="6.5" y="5.5" width="3" height="8.5" rx="0.75" opacity="0.3" /><rect x="11.5" y="2" width="3" height="12" rx="0.75" opacity="0.3" />`,
  info: () => html`<path fill-rule="evenodd" d="M8 1a7 7 0 1 1 0 14A7 7 0 0 1 8 1zM7 6.75v5.5h2v-5.5zM7 3.75v2h2v-2z" />`,
  // Generic
  check: () => html`<path d="M3 8.5l3 3 7-7" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" />`,
  dash: () => html`<path d="M3.5 8h9" stroke="currentColor" stroke-width="2" stroke-linecap="round" />`,
  theme: () => html`<circle cx="8" cy="8" r="6" fill="none" stroke="currentColor" stroke-width="1.5" /><path d="M8 2a6 6 0 0 1 0 12z" />`,
  keyboard: () => html`<rect x="1" y="3.5" width="14" height="9" rx="1.5" fill="none" stroke="currentColor" stroke-width="1.5" /><path d="M4 6.5h1M7.5 6.5h1M11 6.5h1M4.5 9.5h7" stroke="currentColor" stroke-width="1.5" stroke-linecap="round" />`,
  devices: () => html`<rect x="2" y="2" width="12" height="8" rx="1.5" fill="none" stroke="currentColor" stroke-width="1.5" /><path d="M5 13.5h6M8 10v3.5" stroke="currentColor" stroke-width="1.5" stroke-linecap="round" />`,
  up: () => html`<path d="M8 4l4 5H4z" />`,
  down: () => html`<path d="M8 12l4-5H4z" />`,
  updown: () => html`<path d="M8 2.5l3.5 4h-7zM8 13.5l3.5-4h-7z" opacity="0.45" />`,
} as const;

export type IconName = keyof typeof SHAPES;

export function Icon(p: { name: IconName; class?: string }): VNode {
  return html`<svg class=${"icon" + (p.class ? " " + p.class : "")} viewBox="0 0 16 16" width="16" height="16" fill="currentColor" aria-hidden="true" focusable="false">${SHAPES[p.name]()}</svg>`;
}
