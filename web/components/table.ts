// The list view every area uses. The URL is the state: sorting, filters and
// the page live in the query string, so a view can be shared or bookmarked,
// and every link here (sort headers, pagination, "clear filters") keeps the
// rest of the query. Works without JavaScript; the header sticks under the
// top bar; a row is one link; an empty list always says what to do next.

import { html, type VNode } from "../render.ts";
import { EmptyState, type EmptyStateProps } from "./empty.ts";
import { Icon } from "./icons.ts";

export type SortDir = "asc" | "desc";
export interface Sort {
  key: string;
  dir: SortDir;
}

/** Parameters that select a page; dropped when the sort or filters change. */
export const PAGE_PARAMS = ["page", "cursor", "before", "after"];

type UrlLike = URL | string;

function toUrl(u: UrlLike): URL {
  return typeof u === "string" ? new URL(u, "http://pulse.invalid") : u;
}

/**
 * The path and query of `url` with `changes` applied: a string sets a
 * parameter, null removes it. Empty parameters (from a submitted filter form)
 * are dropped so links stay short.
 */
export function withQuery(url: UrlLike, changes: Record<string, string | null | undefined>): string {
  const u = toUrl(url);
  const q = new URLSearchParams(u.search);
  for (const [k, v] of Object.entries(changes)) {
    if (v === null) q.delete(k);
    else if (v !== undefined) q.set(k, v);
  }
  for (const k of [...new Set(q.keys())]) if (q.getAll(k).every((v) => v === "")) q.delete(k);
  const qs = q.toString();
  return u.pathname + (qs ? "?" + qs : "");
}

/** The sort a request asks for, if the column exists and is sortable; else the page's default. */
export function parseSort(url: UrlLike, columns: ReadonlyArray<{ key: string; sort?: boolean | SortDir }>, fallback: Sort): Sort {
  const q = toUrl(url).searchParams;
  const key = q.get("sort");
  const col = columns.find((c) => c.key === key && c.sort);
  if (!col) return fallback;
  const dir = q.get("dir");
  return { key: col.key, dir: dir === "asc" || dir === "desc" ? dir : firstDir(col) };
}

function firstDir(col: { sort?: boolean | SortDir }): SortDir {
  return col.sort === "desc" ? "desc" : "asc";
}

export interface Column<R> {
  /** Sort key in the URL (?sort=key); also the column's identity. */
  key: string;
  label: string;
  /** Sortable; "desc" makes the first click sort descending (times, counts). */
  sort?: boolean | SortDir;
  /** Numbers align right. */
  numeric?: boolean;
  cell: (row: R) => unknown;
  /** Extra class on the header and cells (widths, hiding on phones: "hide-narrow"). */
  class?: string;
}

export interface DataTableProps<R> {
  /** Names the table for assistive tech: "Devices". */
  label: string;
  columns: ReadonlyArray<Column<R>>;
  rows: readonly R[];
  /** The current request URL (c.req.url): links are built from its query. */
  url: UrlLike;
  sort?: Sort;
  /** Each row links here; the link sits in `linkColumn` (default: first) and covers the row. */
  rowHref?: (row: R) => string;
  linkColumn?: string;
  rowKey?: (row: R) => string;
  /** Query parameters that narrow the list: an empty filtered list offers to clear them. */
  filters?: readonly string[];
  /** What an empty list says and offers. Required: no list is ever just blank. */
  empty: EmptyStateProps;
  pagination?: PaginationProps;
}

export function DataTable<R>(p: DataTableProps<R>): VNode {
  const url = toUrl(p.url);
  if (p.rows.length === 0) {
    const active = activeFilters(url, p.filters ?? []);
    const empty = active.length
      ? EmptyState({
          title: `No ${p.label.toLowerCase()} match these filters`,
          body: "Change or clear the filters to see more.",
          actions: [{ label: "Clear filters", href: withQuery(url, Object.fromEntries([...active, ...PAGE_PARAMS].map((k) => [k, null]))) }],
          compact: true,
        })
      : EmptyState(p.empty);
    return html`<div class="table-empty" data-table=${p.label}>${empty}</div>`;
  }
  const linkCol = p.linkColumn ?? p.columns[0]?.key;
  return html`<div class="table-wrap">
      <table class="data" data-table=${p.label} aria-label=${p.label}>
        <thead>
          <tr>
            ${p.columns.map((c) => SortHeader({ column: c, url, sort: p.sort }))}
          </tr>
        </thead>
        <tbody>
          ${p.rows.map((row) => {
            const href = p.rowHref?.(row);
            return html`<tr key=${p.rowKey?.(row)} class=${href ? "row-link" : undefined}>
              ${p.columns.map((c) => {
                const content = c.cell(row) as VNode | string;
                const cls = [c.numeric ? "num" : "", c.class ?? ""].filter(Boolean).join(" ") || undefined;
                return html`<td class=${cls}>${href && c.key === linkCol ? html`<a class="row-anchor" href=${href}>${content}</a>` : content}</td>`;
              })}
            </tr>`;
          })}
        </tbody>
      </table>
    </div>
    ${p.pagination ? Pagination(p.pagination) : null}`;
}

function SortHeader<R>(p: { column: Column<R>; url: URL; sort?: Sort }): VNode {
  const c = p.column;
  const cls = [c.numeric ? "num" : "", c.class ?? ""].filter(Boolean).join(" ") || undefined;
  if (!c.sort) return html`<th scope="col" class=${cls}>${c.label}</th>`;
  const current = p.sort?.key === c.key ? p.sort.dir : undefined;
  const next: SortDir = current ? (current === "asc" ? "desc" : "asc") : firstDir(c);
  const href = withQuery(p.url, { sort: c.key, dir: next, ...Object.fromEntries(PAGE_PARAMS.map((k) => [k, null])) });
  const ariaSort = current === "asc" ? "ascending" : current === "desc" ? "descending" : undefined;
  return html`<th scope="col" class=${cls} aria-sort=${ariaSort}>
    <a class="sort" href=${href} title=${`Sort by ${c.label.toLowerCase()}, ${next === "asc" ? "ascending" : "descending"}`}
      >${c.label}${Icon({ name: current === "asc" ? "up" : current === "desc" ? "down" : "updown", class: "sort-icon" })}</a
    >
  </th>`;
}

function activeFilters(url: URL, filters: readonly string[]): string[] {
  return filters.filter((k) => url.searchParams.getAll(k).some((v) => v !== ""));
}

export interface PaginationProps {
  url: UrlLike;
  /** Query changes that lead to the previous/next page ({cursor: "…"} or {page: "3"}); null when there is none. */
  prev?: Record<string, string | null> | null;
  next?: Record<string, string | null> | null;
  /** "1–50 of 1,204". */
  summary?: string;
}

/** Previous/next links that keep the filters and sort. */
export function Pagination(p: PaginationProps): VNode {
  const link = (changes: Record<string, string | null> | null | undefined, rel: "prev" | "next", text: string) =>
    changes ? html`<a class="btn" rel=${rel} href=${withQuery(p.url, changes)}>${text}</a>` : html`<span class="btn btn-disabled" aria-disabled="true">${text}</span>`;
  return html`<nav class="pagination" aria-label="Pages">
    <span class="muted">${p.summary}</span>
    <span class="pagination-links">${link(p.prev, "prev", "← Previous")}${link(p.next, "next", "Next →")}</span>
  </nav>`;
}

export interface FilterSelect {
  name: string;
  label: string;
  /** The first option should be the "any" choice with value "". */
  options: ReadonlyArray<{ value: string; label: string }>;
}

export interface FilterBarProps {
  url: UrlLike;
  /** A text search; it is the input `/` focuses. */
  search?: { name?: string; label: string; placeholder?: string };
  selects?: readonly FilterSelect[];
  /** Parameters the form carries along unchanged (default: the sort). */
  keep?: readonly string[];
}

/** A GET form: filtering changes the URL, resets to the first page and keeps the sort. */
export function FilterBar(p: FilterBarProps): VNode {
  const url = toUrl(p.url);
  const q = url.searchParams;
  const keep = p.keep ?? ["sort", "dir"];
  const names = [...(p.search ? [p.search.name ?? "q"] : []), ...(p.selects ?? []).map((s) => s.name)];
  const active = activeFilters(url, names);
  return html`<form class="filters" method="get" action=${url.pathname} role="search">
    ${p.search
      ? html`<label class="filter-search">
          <span class="visually-hidden">${p.search.label}</span>
          <input type="search" name=${p.search.name ?? "q"} value=${q.get(p.search.name ?? "q") ?? ""} placeholder=${p.search.placeholder ?? p.search.label} data-search autocomplete="off" />
          <kbd class="filter-kbd" aria-hidden="true">/</kbd>
        </label>`
      : null}
    ${(p.selects ?? []).map(
      (s) => html`<label class="filter-select">
        <span class="filter-label">${s.label}</span>
        <select name=${s.name}>
          ${s.options.map((o) => html`<option value=${o.value} selected=${(q.get(s.name) ?? "") === o.value}>${o.label}</option>`)}
        </select>
      </label>`,
    )}
    ${keep.filter((k) => q.get(k)).map((k) => html`<input type="hidden" name=${k} value=${q.get(k)} />`)}
    <button class="btn" type="submit">Apply</button>
    ${active.length
      ? html`<a class="btn btn-ghost" href=${withQuery(url, Object.fromEntries([...active, ...PAGE_PARAMS].map((k) => [k, null])))}>Clear</a>`
      : null}
  </form>`;
}
