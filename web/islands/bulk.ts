// Bulk selection on a list whose rows carry checkboxes inside a plain form
// (form[data-bulk], inputs [data-bulk-item]): adds a select-all box, says how
// many are selected, keeps the action buttons off until something is, and
// lets Shift+click tick a range. Without this island the form still works:
// tick the boxes, press an action. Lists of other things than alerts name
// them with data-bulk-empty (the count's text with nothing ticked) and
// data-bulk-all-label (the select-all box's label).

for (const form of document.querySelectorAll<HTMLFormElement>("form[data-bulk]")) {
  const items = () => Array.from(form.querySelectorAll<HTMLInputElement>("input[data-bulk-item]"));
  const count = form.querySelector<HTMLElement>("[data-bulk-count]");
  const actions = () => Array.from(form.querySelectorAll<HTMLButtonElement>("[data-bulk-action]"));
  let last: HTMLInputElement | undefined;

  const all = document.createElement("input");
  all.type = "checkbox";
  all.className = "bulk-all";
  all.setAttribute("aria-label", form.dataset.bulkAllLabel ?? "Select every alert on this page");
  all.title = "Select all on this page";

  const place = () => {
    const slot = form.querySelector("th [data-bulk-all-slot]") ?? form.querySelector("[data-bulk-all-slot]");
    if (slot && !slot.contains(all)) slot.replaceChildren(all);
  };

  const update = () => {
    const boxes = items();
    const n = boxes.filter((b) => b.checked).length;
    all.checked = n > 0 && n === boxes.length;
    all.indeterminate = n > 0 && n < boxes.length;
    if (count) count.textContent = n === 0 ? (form.dataset.bulkEmpty ?? "Select alerts to act on them:") : `${n} selected:`;
    for (const b of actions()) b.disabled = n === 0;
    for (const box of boxes) box.closest("tr")?.classList.toggle("row-selected", box.checked);
  };

  all.addEventListener("change", () => {
    for (const b of items()) b.checked = all.checked;
    update();
  });
  form.addEventListener("click", (e) => {
    const box = (e.target as Element).closest<HTMLInputElement>("input[data-bulk-item]");
    if (!box) return;
    if ((e as MouseEvent).shiftKey && last && last !== box) {
      const boxes = items();
      const [a, b] = [boxes.indexOf(last), boxes.indexOf(box)].sort((x, y) => x - y);
      for (const other of boxes.slice(a!, b! + 1)) other.checked = box.checked;
    }
    last = box;
  });
  form.addEventListener("change", update);
  // The live island swaps the rows: find the new boxes and the header slot again.
  document.addEventListener("pulse:live-updated", () => {
    place();
    update();
  });
  place();
  update();
}

export {};
