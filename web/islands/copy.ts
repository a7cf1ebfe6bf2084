// Copy buttons beside secrets and values people paste elsewhere (API keys,
// invite links, redirect URIs). The value is always on the page as text, so
// without script it can still be selected and copied by hand; the button
// only appears once this island runs.

for (const btn of document.querySelectorAll<HTMLButtonElement>("button[data-copy]")) {
  const target = document.getElementById(btn.dataset.copy ?? "");
  if (!target) continue;
  const label = btn.textContent || "Copy";
  btn.hidden = false;
  btn.addEventListener("click", async () => {
    const text = (target.textContent ?? "").trim();
    let copied = false;
    try {
      await navigator.clipboard.writeText(text);
      copied = true;
    } catch {
      // No clipboard access (insecure origin, denied): select the text so Ctrl+C copies it.
      const range = document.createRange();
      range.selectNodeContents(target);
      const selection = getSelection();
      selection?.removeAllRanges();
      selection?.addRange(range);
    }
    btn.textContent = copied ? "Copied" : "Selected — press Ctrl+C";
    btn.dataset.copied = copied ? "true" : "false";
    setTimeout(() => {
      btn.textContent = label;
      delete btn.dataset.copied;
    }, 2500);
  });
}
