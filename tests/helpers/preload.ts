// Loaded before every test file (bunfig.toml). Suites boot whole servers on
// two shared cores, so the default 5 s per test is too tight; and unhandled
// rejections are printed loudly instead of vanishing.
import { setDefaultTimeout } from "bun:test";

setDefaultTimeout(60_000);

process.on("unhandledRejection", (err) => {
  console.error("unhandled rejection in test:", err);
});
