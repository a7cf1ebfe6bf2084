// The on-call timeline's hover: pointing at (or tabbing to) a bar shows who
// and the exact times in the schedule's zone in a tooltip next to it. The
// text comes from each bar's <title>, rendered by the server (without this
// island the browser shows the title itself); the island moves it into the
// tooltip and an aria-label so it is not shown twice.

for (const figure of document.querySelectorAll<HTMLElement>("[data-oncall-timeline]")) {
  const tip = document.createElement("div");
  tip.className = "tl-tip";
  tip.setAttribute("role", "tooltip");
  tip.id = `tl-tip-${Math.random().toString(36).slice(2)}`;
  tip.hidden = true;
  figure.append(tip);

  for (const seg of figure.querySelectorAll<SVGGElement>("[data-seg], .tl-dst")) {
    const title = seg.querySelector("title");
    if (!title) continue;
    seg.dataset.tip = title.textContent ?? "";
    seg.setAttribute("aria-label", seg.dataset.tip.replace("\n", ", "));
    title.remove();
  }

  let current: Element | null = null;
  const show = (seg: SVGGElement, x: number, y: number) => {
    if (current !== seg) {
      current?.classList.remove("tl-active");
      current = seg;
      seg.classList.add("tl-active");
      const [first, ...rest] = (seg.dataset.tip ?? "").split("\n");
      const strong = document.createElement("strong");
      strong.textContent = first ?? "";
      tip.replaceChildren(strong, ...rest.map((line) => Object.assign(document.createElement("span"), { textContent: line })));
      seg.setAttribute("aria-describedby", tip.id);
    }
    tip.hidden = false;
    // Keep the tooltip inside the figure: flip to the left of the pointer near the right edge.
    const box = figure.getBoundingClientRect();
    const left = x - box.left + 12;
    const maxLeft = box.width - tip.offsetWidth - 4;
    tip.style.left = `${Math.max(4, left > maxLeft ? x - box.left - tip.offsetWidth - 12 : left)}px`;
    tip.style.top = `${y - box.top + 14}px`;
  };
  const hide = () => {
    current?.classList.remove("tl-active");
    current?.removeAttribute("aria-describedby");
    current = null;
    tip.hidden = true;
  };

  figure.addEventListener("pointermove", (e) => {
    const seg = (e.target as Element).closest<SVGGElement>("[data-tip]");
    if (seg && figure.contains(seg)) show(seg, e.clientX, e.clientY);
    else hide();
  });
  figure.addEventListener("pointerleave", hide);
  figure.addEventListener("focusin", (e) => {
    const seg = (e.target as Element).closest<SVGGElement>("[data-tip]");
    if (!seg) return;
    const r = seg.getBoundingClientRect();
    show(seg, r.left + Math.min(r.width / 2, 40), r.bottom - 10);
  });
  figure.addEventListener("focusout", hide);
  figure.addEventListener("keydown", (e) => {
    if (e.key === "Escape") hide();
  });
}

export {};
