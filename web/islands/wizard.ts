// The device wizard's site step: the "new site" fields matter only when
// "A new site…" is chosen, so they show only then. Without script they are
// always shown (and ignored unless that choice is made).

const step = document.querySelector<HTMLElement>('[data-wizard-step="2"]');
const select = step?.querySelector<HTMLSelectElement>('select[name="site_id"]');
const fields = step?.querySelector<HTMLElement>("[data-new-site]");

if (select && fields) {
  const sync = () => {
    fields.hidden = select.value !== "__new__";
  };
  select.addEventListener("change", () => {
    sync();
    if (!fields.hidden) fields.querySelector<HTMLInputElement>("input")?.focus();
  });
  sync();
}
