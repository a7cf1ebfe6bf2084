// Theme switch: light or dark (NOC), remembered in a cookie the server reads
// to render the right theme from the first byte (no flash); without a choice
// the system's prefers-color-scheme applies (pure CSS).

const root = document.documentElement;

function current(): "light" | "dark" {
  const set = root.dataset.theme;
  if (set === "light" || set === "dark") return set;
  return matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

function label(btn: HTMLElement): void {
  const next = current() === "dark" ? "light" : "dark";
  btn.title = `Switch to the ${next} theme`;
  const text = btn.querySelector(".theme-label");
  if (text) text.textContent = next === "dark" ? "Dark" : "Light";
}

for (const btn of document.querySelectorAll<HTMLElement>("[data-theme-toggle]")) {
  btn.hidden = false;
  label(btn);
  btn.addEventListener("click", () => {
    const next = current() === "dark" ? "light" : "dark";
    root.dataset.theme = next;
    document.cookie = `pulse_theme=${next}; path=/; max-age=31536000; samesite=lax`;
    label(btn);
  });
}
