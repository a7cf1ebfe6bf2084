// The CSV import's preview: when a file is chosen, parse it here in the
// browser and show every row with its problems before anything is sent —
// bad ids, duplicates within the file, unknown sites, numbers out of range,
// rows past the device limit. The checks are the service's own validators
// (src/devices/validate.ts, src/lib/validate.ts) and its CSV parser, so the
// words match the server's report; the server checks everything again (and
// what only it knows: ids that exist already) when the file is posted.
// The sites and the limit come from the page's JSON data block.

import { parseCsv } from "../../src/devices/csv.ts";
import { parseHeartbeat, parseOptionalSlug, parseTagString } from "../../src/devices/validate.ts";
import { AppError } from "../../src/lib/errors.ts";
import { optionalLatLng, optionalText, requireSlug, requireText } from "../../src/lib/validate.ts";

interface PreviewData {
  columns: string[];
  required: string[];
  sites: string[];
  limit: number | null;
  live: number;
  maxRows: number;
}

interface Row {
  line: number;
  id: string;
  name: string;
  site: string;
  errors: string[];
}

const form = document.querySelector<HTMLFormElement>("form[data-csv-form]");
const input = form?.querySelector<HTMLInputElement>('input[type="file"][name="file"]');
const out = document.querySelector<HTMLElement>("[data-csv-preview]");
const dataEl = document.querySelector<HTMLScriptElement>('script[type="application/json"][data-csv-preview-data]');
const importButton = form?.querySelector<HTMLButtonElement>("[data-import-button]");

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: Array<Node | string>): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...children);
  return e;
}

/** Every problem of one row, as the server's import words them. */
function checkRow(get: (c: string) => string, errors: string[]): void {
  const field = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      errors.push(err instanceof AppError ? err.message : String(err));
    }
  };
  field(() => requireSlug("device_id", get("device_id")));
  field(() => requireSlug("site_id", get("site_id")));
  field(() => (get("name").trim() === "" ? "" : requireText("name", get("name"))));
  field(() => parseTagString("tags", get("tags")));
  field(() => parseHeartbeat("heartbeat_seconds", get("heartbeat_seconds")));
  field(() => optionalText("model", get("model")));
  field(() => optionalText("serial", get("serial")));
  field(() => optionalLatLng(get("lat"), get("lng")));
  field(() => parseOptionalSlug("parent_device_id", get("parent_device_id")));
  if (get("parent_device_id").trim() && get("parent_device_id").trim() === get("device_id").trim()) errors.push("parent_device_id: a device cannot be its own parent");
}

function check(text: string, d: PreviewData): { rows: Row[]; fatal?: string } {
  let records;
  try {
    records = parseCsv(text);
  } catch (err) {
    return { rows: [], fatal: err instanceof Error ? err.message : String(err) };
  }
  if (records.length === 0) return { rows: [], fatal: "csv: empty; the first line must be the header" };
  const header = new Map<string, number>();
  for (const [i, raw] of records[0]!.cells.entries()) {
    const name = raw.trim().toLowerCase();
    if (!d.columns.includes(name)) return { rows: [], fatal: `csv: line 1: unknown column ${JSON.stringify(raw)}; the columns are ${d.columns.join(",")}` };
    if (header.has(name)) return { rows: [], fatal: `csv: line 1: column ${name} appears twice` };
    header.set(name, i);
  }
  if (d.required.some((r) => !header.has(r))) return { rows: [], fatal: `csv: line 1: the header must name the columns, with at least ${d.required.join(" and ")} (${d.columns.join(",")})` };
  const data = records.slice(1);
  if (data.length === 0) return { rows: [], fatal: "csv: no rows after the header" };
  if (data.length > d.maxRows) return { rows: [], fatal: `csv: at most ${d.maxRows} rows in one import; split the file` };

  const sites = new Set(d.sites);
  const firstLine = new Map<string, number>();
  const room = d.limit === null ? Infinity : Math.max(0, d.limit - d.live);
  const rows = data.map((rec, index): Row => {
    const get = (c: string) => {
      const i = header.get(c);
      return i === undefined ? "" : (rec.cells[i] ?? "");
    };
    const errors: string[] = [];
    if (rec.cells.length !== header.size) errors.push(`row: ${rec.cells.length} columns where the header has ${header.size}`);
    checkRow(get, errors);
    const id = get("device_id").trim();
    const seen = firstLine.get(id);
    if (id && seen !== undefined) errors.push(`device_id: ${id} is also on line ${seen}`);
    else if (id) firstLine.set(id, rec.line);
    const site = get("site_id").trim();
    if (site && /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(site) && !sites.has(site)) errors.push(`site_id: no site ${site} in this tenant; create it first`);
    if (index >= room) errors.push(`DEVICE_LIMIT: the tenant may have ${d.limit} devices and has ${d.live}; this row would pass the limit`);
    return { line: rec.line, id, name: get("name").trim(), site, errors };
  });
  return { rows };
}

function render(result: { rows: Row[]; fatal?: string }, fileName: string): void {
  if (!out) return;
  out.hidden = false;
  out.replaceChildren();
  if (result.fatal) {
    out.append(el("div", { class: "flash flash-error", role: "alert", "data-preview-result": "unreadable" }, `${fileName}: ${result.fatal.replace(/^csv: /, "")}`));
    if (importButton) importButton.disabled = true;
    return;
  }
  const bad = result.rows.filter((r) => r.errors.length);
  const summary = bad.length
    ? el("div", { class: "flash flash-error", role: "alert", "data-preview-result": "problems" }, `${bad.length} of ${result.rows.length} rows in ${fileName} have problems (marked below). Fix them and choose the file again; nothing has been sent.`)
    : el("div", { class: "flash flash-ok", role: "status", "data-preview-result": "ok" }, `${result.rows.length} row${result.rows.length === 1 ? "" : "s"} in ${fileName} look right. Import sends the file; the server checks it again and writes all or nothing.`);
  const tbody = el("tbody");
  const frag = document.createDocumentFragment();
  for (const r of result.rows) {
    const problems = r.errors.length ? el("ul", { class: "plain-list" }, ...r.errors.map((e) => el("li", {}, e))) : "";
    const badge = r.errors.length ? el("span", { class: "badge tone-bad" }, "ERROR") : el("span", { class: "badge tone-ok" }, "OK");
    frag.append(
      el(
        "tr",
        { "data-line": String(r.line), "data-row-ok": r.errors.length ? "no" : "yes" },
        el("td", { class: "num" }, String(r.line)),
        el("td", { class: "mono" }, r.id || "—"),
        el("td", {}, r.name),
        el("td", { class: "mono" }, r.site),
        el("td", {}, badge),
        el("td", {}, problems),
      ),
    );
  }
  tbody.append(frag);
  const head = el("tr", {}, ...["Line", "Device", "Name", "Site", "Result", "Problems"].map((h, i) => el("th", { scope: "col", ...(i === 0 ? { class: "num" } : {}) }, h)));
  const table = el("table", { class: "data", "data-table": "Preview", "aria-label": `Preview of ${fileName}` }, el("thead", {}, head), tbody);
  out.append(el("h3", {}, "Preview"), summary, el("div", { class: "table-wrap preview-wrap" }, table));
  if (importButton) {
    importButton.disabled = bad.length > 0;
    importButton.title = bad.length ? "Fix the marked rows first" : "";
  }
}

if (form && input && out && dataEl) {
  const data = JSON.parse(dataEl.textContent ?? "{}") as PreviewData;
  input.addEventListener("change", async () => {
    const file = input.files?.[0];
    if (!file) {
      out.hidden = true;
      if (importButton) importButton.disabled = false;
      return;
    }
    out.hidden = false;
    out.replaceChildren(el("p", { class: "muted" }, `Reading ${file.name}…`));
    render(check(await file.text(), data), file.name);
  });
}
