// Theme switch: light or dark (NOC), remembered in a cookie the server reads
// to render the right theme from the first byte (no flash); without a choice
// the system's prefers-color-scheme applies (pure CSS).

function apply(theme: string): void {
  document.documentElement.dataset.theme = theme;
  document.cookie = `pulse_theme=${theme}; path=/; max-age=31536000; samesite=lax`;
}

document.addEventListener("click", (e) => {
  const btn = (e.target as Element | null)?.closest?.("[data-theme-toggle]");
  if (!btn) return;
  const current = document.documentElement.dataset.theme ?? (matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light");
  const next = current === "dark" ? "light" : "dark";
  apply(next);
});
