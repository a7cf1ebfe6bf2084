// TV mode for NOC pages: `F` (or the page's TV mode button) shows the page
// full screen, without the navigation, in large type on the dark theme; `F`
// or Esc again returns. The user's own theme choice is put back afterwards.

const root = document.documentElement;
const buttons = document.querySelectorAll<HTMLButtonElement>("[data-tv-toggle]");
let savedTheme: string | undefined;

function typing(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  return !!el?.tagName && (el.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName));
}

function setTv(on: boolean): void {
  if (on === root.classList.contains("tv")) return;
  if (on) {
    savedTheme = root.dataset.theme;
    root.dataset.theme = "dark";
    root.classList.add("tv");
    // Full screen needs a user gesture (the key or the click); refused is fine, the layout still changes.
    root.requestFullscreen?.().catch(() => {});
  } else {
    root.classList.remove("tv");
    if (savedTheme === undefined) delete root.dataset.theme;
    else root.dataset.theme = savedTheme;
    if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
  }
  for (const b of buttons) b.setAttribute("aria-pressed", String(on));
}

for (const b of buttons) {
  b.hidden = false;
  b.setAttribute("aria-pressed", "false");
  b.addEventListener("click", () => setTv(!root.classList.contains("tv")));
}

document.addEventListener("keydown", (e) => {
  if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) return;
  if (document.querySelector("dialog[open]")) return;
  if (e.key === "f" || e.key === "F") {
    e.preventDefault();
    setTv(!root.classList.contains("tv"));
  } else if (e.key === "Escape" && root.classList.contains("tv")) {
    setTv(false);
  }
});

// Leaving full screen with the browser's own Esc ends TV mode too.
document.addEventListener("fullscreenchange", () => {
  if (!document.fullscreenElement && root.classList.contains("tv")) setTv(false);
});

export {};
