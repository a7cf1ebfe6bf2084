// The top of a page: its title, one line on what it is for, and the page's
// main actions on the right (wrapping under the title on a phone).

import { html, type VNode } from "../render.ts";

export function PageHeader(p: { title: string; description?: VNode | string; actions?: VNode | VNode[] }): VNode {
  return html`<div class="page-header">
    <div>
      <h1>${p.title}</h1>
      ${p.description ? html`<p class="page-description">${p.description}</p>` : null}
    </div>
    ${p.actions ? html`<div class="page-actions">${p.actions}</div>` : null}
  </div>`;
}
