// Loaded before every test file (bunfig.toml). Keeps stray timers from
// holding the process and makes unhandled rejections fail loudly.
process.on("unhandledRejection", (err) => {
  console.error("unhandled rejection in test:", err);
});
