// The escalation level builder's reordering: drag a level by its handle
// (mouse, pen or touch), press the arrow keys on the handle, or use the Up
// and Down buttons — all without a round trip. The new order travels in the
// hidden `order` fields (document order) when the policy is saved. Without
// this island the handles stay hidden and Up/Down post the form instead.

for (const list of document.querySelectorAll<HTMLOListElement>("[data-levels]")) {
  const form = list.closest("form");
  const note = form?.querySelector<HTMLElement>("[data-order-note]");
  const items = () => Array.from(list.querySelectorAll<HTMLLIElement>(":scope > li[data-level]"));

  const renumber = (message?: string) => {
    const all = items();
    all.forEach((li, i) => {
      const n = String(i + 1);
      li.dataset.level = n;
      const num = li.querySelector("[data-level-number]");
      if (num) num.textContent = n;
      const delay = li.querySelector("[data-delay-label]");
      if (delay) delay.textContent = i === 0 ? "Wait after the alert opens" : "Wait after the previous level";
      const up = li.querySelector<HTMLButtonElement>("[data-move=up]");
      const down = li.querySelector<HTMLButtonElement>("[data-move=down]");
      if (up) {
        up.disabled = i === 0;
        up.setAttribute("aria-label", `Move level ${n} up`);
      }
      if (down) {
        down.disabled = i === all.length - 1;
        down.setAttribute("aria-label", `Move level ${n} down`);
      }
      li.querySelector("[data-drag-handle]")?.setAttribute("aria-label", `Drag level ${n} to reorder (or use the arrow keys)`);
    });
    if (message && note) note.textContent = `${message} Save the policy to keep the new order.`;
  };

  const move = (li: HTMLLIElement, dir: -1 | 1): boolean => {
    const all = items();
    const i = all.indexOf(li);
    const j = i + dir;
    if (j < 0 || j >= all.length) return false;
    if (dir < 0) list.insertBefore(li, all[j]!);
    else list.insertBefore(li, all[j]!.nextSibling);
    renumber(`Level ${i + 1} is now level ${j + 1}.`);
    return true;
  };

  list.addEventListener("click", (e) => {
    const btn = (e.target as Element).closest<HTMLButtonElement>("[data-move]");
    if (!btn) return;
    e.preventDefault();
    const li = btn.closest<HTMLLIElement>("li[data-level]");
    if (li) move(li, btn.dataset.move === "up" ? -1 : 1);
    // Keep the keyboard where it was: on the same level's button, or its other one at an end.
    const again = li?.querySelector<HTMLButtonElement>(`[data-move=${btn.dataset.move}]`);
    (again && !again.disabled ? again : li?.querySelector<HTMLButtonElement>("[data-move]:not(:disabled)"))?.focus();
  });

  for (const handle of list.querySelectorAll<HTMLElement>("[data-drag-handle]")) {
    handle.hidden = false;
    handle.addEventListener("keydown", (e) => {
      if (e.key !== "ArrowUp" && e.key !== "ArrowDown") return;
      e.preventDefault();
      const li = handle.closest<HTMLLIElement>("li[data-level]");
      if (li && move(li, e.key === "ArrowUp" ? -1 : 1)) handle.focus();
    });
    handle.addEventListener("pointerdown", (e) => {
      if (e.button !== 0) return;
      const li = handle.closest<HTMLLIElement>("li[data-level]");
      if (!li) return;
      e.preventDefault();
      handle.setPointerCapture(e.pointerId);
      const from = items().indexOf(li);
      li.classList.add("level-dragging");
      const onMove = (ev: PointerEvent) => {
        const others = items().filter((x) => x !== li);
        const before = others.find((x) => {
          const r = x.getBoundingClientRect();
          return ev.clientY < r.top + r.height / 2;
        });
        if (before) {
          if (li.nextElementSibling !== before) list.insertBefore(li, before);
        } else if (list.lastElementChild !== li) list.append(li);
      };
      const onUp = () => {
        handle.removeEventListener("pointermove", onMove);
        handle.removeEventListener("pointerup", onUp);
        handle.removeEventListener("pointercancel", onUp);
        li.classList.remove("level-dragging");
        const to = items().indexOf(li);
        if (to !== from) renumber(`Level ${from + 1} is now level ${to + 1}.`);
      };
      handle.addEventListener("pointermove", onMove);
      handle.addEventListener("pointerup", onUp);
      handle.addEventListener("pointercancel", onUp);
    });
  }
}

export {};
