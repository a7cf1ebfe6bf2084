// PGlite's WASM and data bundle, imported as files so `bun build --compile`
// embeds them: the compiled binary needs nothing next to it. When running from
// source these resolve to the files in node_modules.
import pgliteWasm from "../../node_modules/@electric-sql/pglite/dist/pglite.wasm" with { type: "file" };
import initdbWasm from "../../node_modules/@electric-sql/pglite/dist/initdb.wasm" with { type: "file" };
import pgliteData from "../../node_modules/@electric-sql/pglite/dist/pglite.data" with { type: "file" };

export interface PgliteAssets {
  pgliteWasmModule: WebAssembly.Module;
  initdbWasmModule: WebAssembly.Module;
  fsBundle: Blob;
}

/** Compile the embedded modules; ~150 ms, done once per process start. */
export async function loadPgliteAssets(): Promise<PgliteAssets> {
  const [pgliteWasmModule, initdbWasmModule, data] = await Promise.all([
    Bun.file(pgliteWasm).arrayBuffer().then((b) => WebAssembly.compile(b)),
    Bun.file(initdbWasm).arrayBuffer().then((b) => WebAssembly.compile(b)),
    Bun.file(pgliteData).arrayBuffer(),
  ]);
  return { pgliteWasmModule, initdbWasmModule, fsBundle: new Blob([data]) };
}
