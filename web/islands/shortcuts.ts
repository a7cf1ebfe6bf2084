// Keyboard shortcuts on every page: `/` focuses the page's search box
// ([data-search]), `g d` / `g a` go to devices / alerts, `?` opens the list
// (the <dialog id="shortcuts"> the layout renders). Go-to targets come from
// that dialog's rows, so only areas that exist are reachable. Keys typed into
// a field are left alone.

const dialog = document.getElementById("shortcuts") as HTMLDialogElement | null;
const SEQUENCE_MS = 1500;
let pendingG = 0;

function typing(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el || !el.tagName) return false;
  return el.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName);
}

function openShortcuts(): void {
  if (dialog && !dialog.open) dialog.showModal();
}

for (const btn of document.querySelectorAll<HTMLElement>("[data-shortcuts-open]")) {
  btn.hidden = false;
  btn.addEventListener("click", openShortcuts);
}

document.addEventListener("keydown", (e) => {
  if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
  if (typing(e.target)) {
    // Esc leaves a search box, so the other shortcuts work again.
    if (e.key === "Escape" && (e.target as HTMLElement).matches("[data-search]")) (e.target as HTMLElement).blur();
    return;
  }
  if (dialog?.open) return;
  const now = Date.now();
  if (pendingG && now - pendingG < SEQUENCE_MS) {
    pendingG = 0;
    const row = dialog?.querySelector<HTMLElement>(`[data-go="${CSS.escape(e.key)}"]`);
    if (row?.dataset.href) {
      e.preventDefault();
      location.assign(row.dataset.href);
    }
    return;
  }
  pendingG = 0;
  if (e.key === "/") {
    const search = document.querySelector<HTMLInputElement>("[data-search]");
    if (search) {
      e.preventDefault();
      search.focus();
      search.select();
    }
  } else if (e.key === "?") {
    e.preventDefault();
    openShortcuts();
  } else if (e.key === "g") {
    pendingG = now;
  }
});
