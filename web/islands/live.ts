// Live pages: listens to /api/v1/live (Server-Sent Events) and, when an event
// the page cares about arrives, re-reads the page and swaps the regions it
// marked (data-live-region="name") for their fresh versions. The page says
// what it listens to on a hidden marker:
//
//   <div data-live="alerts.changed devices.status" data-live-every="15"
//        data-live-match="alert_id=…" hidden></div>
//
// data-live-every re-reads on a timer as well (rates, "3 min ago");
// data-live-match ignores events whose data does not match. A region someone
// is working in (focus inside, a ticked box, an open confirmation) is left
// alone and [data-live-stale] is shown instead, so nothing moves under the
// pointer. Events are hints: a page that reconnects re-reads once.

const marker = document.querySelector<HTMLElement>("[data-live]");
const statusEl = document.querySelector<HTMLElement>("[data-live-status]");
const statusText = statusEl?.querySelector<HTMLElement>("[data-live-text]");

function setStatus(state: "live" | "reconnecting" | "off"): void {
  if (!statusEl) return;
  statusEl.hidden = state === "off";
  statusEl.dataset.state = state;
  if (statusText) statusText.textContent = state === "live" ? "Live" : "Reconnecting…";
  statusEl.title = state === "live" ? "This page updates by itself" : "Lost the live connection; trying again";
}

function busy(region: Element): boolean {
  const active = document.activeElement;
  if (active && active !== document.body && region.contains(active) && active.matches("input, select, textarea, button, summary")) return true;
  return region.querySelector("input[type=checkbox]:checked, details[open], [data-live-hold]") !== null;
}

if (marker && typeof EventSource === "function") {
  const wanted = new Set((marker.dataset.live ?? "").split(/\s+/).filter(Boolean));
  const every = Number(marker.dataset.liveEvery ?? 0);
  const match = (marker.dataset.liveMatch ?? "").split("=");
  const stale = document.querySelector<HTMLElement>("[data-live-stale]");
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running = false;
  let again = false;
  let leaving = false;
  let controller: AbortController | undefined;
  // Only changes an event announced are highlighted; the timer's re-reads ("3 min ago") stay calm.
  let highlight = false;

  const refresh = async (): Promise<void> => {
    if (leaving) return;
    if (running) {
      again = true;
      return;
    }
    running = true;
    const flash = highlight;
    highlight = false;
    controller = new AbortController();
    try {
      const res = await fetch(location.href, { headers: { "X-Pulse-Live": "1" }, cache: "no-store", credentials: "same-origin", signal: controller.signal });
      // Signed out, or the page is gone: leave what is shown; a reload will say why.
      if (!res.ok || res.redirected) return;
      const doc = new DOMParser().parseFromString(await res.text(), "text/html");
      let held = false;
      for (const region of document.querySelectorAll<HTMLElement>("[data-live-region]")) {
        const fresh = doc.querySelector(`[data-live-region="${CSS.escape(region.dataset.liveRegion ?? "")}"]`);
        if (!fresh || fresh.innerHTML === region.innerHTML) continue;
        if (busy(region)) {
          held = true;
          continue;
        }
        region.replaceChildren(...Array.from(fresh.childNodes, (n) => document.importNode(n, true)));
        if (flash) {
          region.classList.remove("live-flash");
          void region.offsetWidth; // restart the highlight
          region.classList.add("live-flash");
        }
      }
      if (stale) stale.hidden = !held;
      document.dispatchEvent(new CustomEvent("pulse:live-updated"));
    } catch {
      // Offline for a moment or navigating away: the next event tries again.
    } finally {
      running = false;
      controller = undefined;
      if (again) {
        again = false;
        schedule();
      }
    }
  };

  // Bursts of events (a sweep marking 50 devices) become one re-read.
  const schedule = (delay = 300, announced = false): void => {
    if (announced) highlight = true;
    if (timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      if (document.hidden) return;
      void refresh();
    }, delay);
  };

  const es = new EventSource("/api/v1/live");
  let connectedBefore = false;
  es.addEventListener("ready", () => {
    setStatus("live");
    // Back after a drop: events may have been missed.
    if (connectedBefore) schedule(0);
    connectedBefore = true;
  });
  es.addEventListener("error", () => setStatus(es.readyState === EventSource.CLOSED ? "off" : "reconnecting"));
  for (const type of wanted) {
    es.addEventListener(type, (e) => {
      if (match.length === 2) {
        try {
          const data = JSON.parse((e as MessageEvent<string>).data) as Record<string, unknown>;
          if (String(data[match[0]!]) !== match[1]) return;
        } catch {
          return;
        }
      }
      schedule(300, true);
    });
  }
  if (every > 0) setInterval(() => schedule(0), every * 1000);
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) schedule(0);
  });
  // Leaving the page: stop the stream and any re-read, so nothing is cut off mid-flight.
  addEventListener("pagehide", () => {
    leaving = true;
    es.close();
    controller?.abort();
  });
  addEventListener("beforeunload", () => {
    leaving = true;
    es.close();
    controller?.abort();
  });
  // A region someone finished working in can catch up.
  document.addEventListener("focusout", () => {
    if (stale && !stale.hidden) schedule(800);
  });
}

export {};
