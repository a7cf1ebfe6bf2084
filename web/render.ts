// Server-side rendering: htm tagged templates over Preact, rendered to a
// string. Pages are full HTML documents that work before any script runs.

import { h, type VNode } from "preact";
import htm from "htm";
import { renderToString } from "preact-render-to-string";

export const html = htm.bind(h) as (strings: TemplateStringsArray, ...values: unknown[]) => VNode;

export type { VNode };

/** A whole document: doctype plus the rendered tree. */
export function renderDocument(tree: VNode): string {
  return "<!doctype html>" + renderToString(tree);
}
