// Every list says what to do next when it has nothing to show. An action whose
// page does not exist yet gets no button (the sentence still names the step),
// so an empty state never links to a dead page.

import { html, type VNode } from "../render.ts";
import { Icon, type IconName } from "./icons.ts";

export interface EmptyAction {
  label: string;
  /** Omit while the target page does not exist: no button then; the body still names the step. */
  href?: string;
  primary?: boolean;
}

export interface EmptyStateProps {
  title: string;
  /** The next step, in a sentence ("add one, import a CSV, or run `pulse simulate`"). */
  body: VNode | string | Array<VNode | string>;
  actions?: EmptyAction[];
  icon?: IconName;
  /** Set on a filtered list: the message is about the filter, not the data. */
  compact?: boolean;
}

export function EmptyState(p: EmptyStateProps): VNode {
  const actions = (p.actions ?? []).filter((a) => a.href);
  return html`<div class=${"empty" + (p.compact ? " empty-compact" : "")} data-empty>
    ${p.icon ? html`<div class="empty-icon">${Icon({ name: p.icon })}</div>` : null}
    <p class="empty-title">${p.title}</p>
    <p class="empty-body">${p.body}</p>
    ${actions.length
      ? html`<p class="empty-actions">
          ${actions.map((a) => html`<a class=${a.primary ? "btn btn-primary" : "btn"} href=${a.href}>${a.label}</a>`)}
        </p>`
      : null}
  </div>`;
}
