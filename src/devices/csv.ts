// CSV as RFC 4180 has it: comma-separated, fields optionally in double
// quotes (which may hold commas, quotes as "" and line breaks), CRLF or LF
// line ends. Pure and linear, so a 10,000-row import parses in milliseconds.

import { invalid } from "../lib/errors.ts";

export interface CsvRecord {
  /** Line of the file the record starts on (1-based). */
  line: number;
  cells: string[];
}

/** Records of a CSV text, blank lines skipped; throws 400 naming the line of a malformed quote. */
export function parseCsv(text: string): CsvRecord[] {
  const s = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const out: CsvRecord[] = [];
  let cells: string[] = [];
  let line = 1;
  let start = 1;
  let i = 0;
  const n = s.length;
  const endRecord = () => {
    if (!(cells.length === 1 && cells[0] === "")) out.push({ line: start, cells });
    cells = [];
  };
  while (i <= n) {
    // Only reached at a record's start: after the last line break there is nothing more.
    if (i === n) break;
    if (cells.length === 0) start = line;
    if (s[i] === '"') {
      let value = "";
      let j = i + 1;
      for (;;) {
        const q = s.indexOf('"', j);
        if (q < 0) throw invalid("csv", `csv: line ${start}: a quoted field is never closed`);
        const chunk = s.slice(j, q);
        value += chunk;
        for (let k = 0; k < chunk.length; k++) if (chunk.charCodeAt(k) === 10) line++;
        if (s[q + 1] === '"') {
          value += '"';
          j = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      cells.push(value);
      if (i < n && s[i] !== "," && s[i] !== "\n" && s[i] !== "\r") throw invalid("csv", `csv: line ${line}: text after a closing quote; quotes inside a field are written ""`);
    } else {
      let j = i;
      while (j < n) {
        const c = s.charCodeAt(j);
        if (c === 44 || c === 10 || c === 13) break;
        if (c === 34) throw invalid("csv", `csv: line ${line}: a quote inside an unquoted field; quote the whole field and write quotes as ""`);
        j++;
      }
      cells.push(s.slice(i, j));
      i = j;
    }
    if (i >= n) {
      endRecord();
      break;
    }
    if (s[i] === ",") {
      i++;
      if (i === n) {
        cells.push("");
        endRecord();
        break;
      }
      continue;
    }
    // Line break: CRLF, LF or a lone CR.
    i += s[i] === "\r" && s[i + 1] === "\n" ? 2 : 1;
    line++;
    endRecord();
  }
  return out;
}

/** One CSV cell, quoted when it must be. */
export function csvCell(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v;
}

/** Rows as CSV text with CRLF line ends. */
export function toCsv(rows: readonly (readonly string[])[]): string {
  return rows.map((r) => r.map(csvCell).join(",")).join("\r\n") + "\r\n";
}
