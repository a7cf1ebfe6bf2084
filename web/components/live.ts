// Live pages: the island that keeps marked regions current over /api/v1/live
// (see web/islands/live.ts for the markers a page sets), and the quiet "Live"
// indicator it reveals once connected.

import { html, type VNode } from "../render.ts";

export const LIVE_ISLAND = "islands/live.js";

/** "● Live" once the live island is connected; hidden without script. */
export function LiveStatus(): VNode {
  return html`<span class="live-status" data-live-status hidden aria-live="polite"><span class="live-dot" aria-hidden="true"></span><span data-live-text>Live</span></span>`;
}
