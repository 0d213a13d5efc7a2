/**
 * The dashboard's only two assets, served by tend itself (no CDN, works offline): a small style
 * sheet (light and dark through prefers-color-scheme) and a small script for the action buttons.
 */

/** `/ui/style.css` */
export const STYLE_CSS = `
:root { color-scheme: light dark; --bg: #fff; --fg: #1b1f24; --muted: #59636e; --line: #d1d9e0; --accent: #0969da; --bad: #cf222e; --ok: #1a7f37; --code: #f6f8fa; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #0d1117; --fg: #e6edf3; --muted: #9198a1; --line: #30363d; --accent: #4493f8; --bad: #f85149; --ok: #3fb950; --code: #161b22; }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 14px/1.45 system-ui, sans-serif; }
header { display: flex; gap: 1.5rem; align-items: center; padding: .6rem 1.2rem; border-bottom: 1px solid var(--line); }
header strong { font-size: 1.05rem; }
header .mode { margin-left: auto; color: var(--muted); }
form.inline { display: inline; }
form.login { display: flex; gap: .6rem; align-items: end; }
.error { color: var(--bad); }
main { padding: 1rem 1.2rem; max-width: 80rem; }
a { color: var(--accent); }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; }
th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 600; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
pre { background: var(--code); padding: .6rem; overflow: auto; border-radius: 6px; white-space: pre-wrap; word-break: break-word; }
form.filters { display: flex; gap: .6rem; flex-wrap: wrap; align-items: end; }
label { display: flex; flex-direction: column; gap: .15rem; color: var(--muted); font-size: .85rem; }
input, select, button { font: inherit; padding: .3rem .5rem; border: 1px solid var(--line); border-radius: 6px; background: var(--bg); color: var(--fg); }
button { cursor: pointer; }
button.danger { color: var(--bad); }
.state-discarded, .state-cancelled { color: var(--bad); }
.state-completed { color: var(--ok); }
.muted { color: var(--muted); }
.glances { display: flex; flex-wrap: wrap; gap: 1rem; }
.glance { border: 1px solid var(--muted); border-radius: 4px; padding: 0 1rem; min-width: 14rem; }
.glance ul { list-style: none; padding: 0; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; }
dt { color: var(--muted); }
header { flex-wrap: wrap; }
td.error { color: var(--bad); }
section { margin-bottom: 1.5rem; }
svg.chart { display: block; overflow: visible; }
svg.chart polyline { stroke-width: 1.5; vector-effect: non-scaling-stroke; }
.c-enq { stroke: var(--accent); } .c-done { stroke: var(--ok); } .c-fail { stroke: var(--bad); } .c-backlog { stroke: var(--muted); }
.key-enq { color: var(--accent); } .key-done { color: var(--ok); } .key-fail { color: var(--bad); }
`;

/**
 * `/ui/app.js`, the dashboard's only script (no framework, no build step):
 * - action buttons (`data-url`, `data-method`) send the admin token as a Bearer header, asked once
 *   per tab and kept in sessionStorage, then refresh the page's content (or go to `data-after`);
 * - a page with `data-live` (the overview, a job) follows `/api/events` and swaps in its freshly
 *   rendered `<main>` when the stream says something changed: live without reloading;
 * - bulk forms (`data-bulk`) ask the API for the count of matching jobs first, show it, and only
 *   then offer to confirm the action.
 */
export const APP_JS = `
"use strict";
let refreshing = null;
let again = false;
// Fetches this page again and swaps in its <main> (the page itself is not reloaded); a change
// noticed while a refresh is in flight runs one more.
async function refresh() {
  if (refreshing) { again = true; return refreshing; }
  refreshing = (async () => {
    do {
      again = false;
      const res = await fetch(location.href, { headers: { accept: "text/html" } });
      if (!res.ok) return;
      const doc = new DOMParser().parseFromString(await res.text(), "text/html");
      const fresh = doc.querySelector("main");
      const current = document.querySelector("main");
      if (fresh && current) current.replaceWith(document.adoptNode(fresh));
    } while (again);
  })().finally(() => { refreshing = null; });
  return refreshing;
}

function token() {
  let value = sessionStorage.getItem("tend-admin-token");
  if (!value) {
    value = prompt("Admin token");
    if (!value) return null;
    sessionStorage.setItem("tend-admin-token", value);
  }
  return value;
}

async function act(method, url, body) {
  // Logged in: the HttpOnly cookie authorizes (with this page's Origin); else the Bearer token.
  const session = document.body.dataset.session === "1";
  const value = session ? null : token();
  if (!session && !value) return null;
  const headers = session ? {} : { authorization: "Bearer " + value };
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (res.status === 403 && !session) sessionStorage.removeItem("tend-admin-token");
  const answer = await res.json().catch(() => ({}));
  if (!res.ok) {
    alert((answer.error && answer.error.message) || "HTTP " + res.status);
    return null;
  }
  return answer;
}

document.addEventListener("click", async (event) => {
  const button = event.target instanceof Element ? event.target.closest("button[data-url]") : null;
  if (!button) return;
  event.preventDefault();
  const answer = await act(button.dataset.method, button.dataset.url);
  if (answer === null) return;
  if (button.dataset.after) location.assign(button.dataset.after);
  else await refresh();
});

function bulkFilter(form) {
  const filter = {};
  for (const [k, v] of new FormData(form)) if (v !== "" && k !== "action") filter[k] = v;
  return filter;
}

// A bulk form: the first press counts the matching jobs and shows the count; only a second press
// with the same action and filter acts (and is told the count it confirmed).
document.addEventListener("submit", async (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.dataset.bulk) return;
  event.preventDefault();
  const action = form.elements.namedItem("action").value;
  const out = form.querySelector("[data-bulk-result]");
  const button = form.querySelector("button[type=submit]");
  const filter = bulkFilter(form);
  const key = action + " " + JSON.stringify(filter);
  if (form.dataset.confirm !== key) {
    const res = await fetch("/api/jobs/bulk/" + action + "?" + new URLSearchParams(filter));
    const preview = await res.json().catch(() => ({}));
    if (!res.ok) { out.textContent = (preview.error && preview.error.message) || "HTTP " + res.status; return; }
    form.dataset.confirm = key;
    out.textContent = preview.count + " job(s) match.";
    out.dataset.count = String(preview.count);
    button.textContent = "Confirm: " + action + " " + preview.count + " job(s)";
    return;
  }
  delete form.dataset.confirm;
  button.textContent = "Count";
  const done = await act("POST", "/api/jobs/bulk/" + action, filter);
  if (done === null) return;
  out.textContent = action + ": " + done.count + " job(s) done" + (done.skipped ? ", " + done.skipped + " skipped." : ".");
  out.dataset.done = String(done.count);
});

// Choosing another action asks for the count again.
document.addEventListener("change", (event) => {
  const form = event.target instanceof Element ? event.target.closest("form[data-bulk]") : null;
  if (form && form.dataset.confirm) {
    delete form.dataset.confirm;
    form.querySelector("button[type=submit]").textContent = "Count";
  }
});

const live = document.querySelector("[data-live]");
if (live && window.EventSource) {
  const job = live.dataset.job;
  const source = new EventSource("/api/events" + (job ? "?job=" + encodeURIComponent(job) : ""));
  // The server sends only what changed (and once when the stream opens).
  source.addEventListener("queues", () => refresh());
  source.addEventListener("job", () => refresh());
  window.addEventListener("pagehide", () => source.close());
}

// The operations pages (queues, cron, convergers, inbox, workers): each [data-refresh="N"] part is
// read again every N seconds while the tab is visible, and swapped in only when it changed, keeping
// the focused button focused (keyboard use is not disturbed by a refresh).
const parts = document.querySelectorAll("[data-refresh]");
if (parts.length > 0) {
  const seconds = Math.max(1, Math.min(...[...parts].map((p) => Number(p.dataset.refresh) || 5)));
  let busy = false;
  const update = async () => {
    if (busy || document.visibilityState !== "visible") return;
    busy = true;
    try {
      const res = await fetch(location.href, { headers: { accept: "text/html" } });
      if (!res.ok) return;
      const doc = new DOMParser().parseFromString(await res.text(), "text/html");
      const fresh = doc.querySelectorAll("[data-refresh]");
      const current = document.querySelectorAll("[data-refresh]");
      current.forEach((part, i) => {
        const next = fresh[i];
        if (!next || next.innerHTML === part.innerHTML) return;
        const focused = document.activeElement;
        const url = focused && part.contains(focused) ? focused.getAttribute("data-url") : null;
        part.replaceWith(document.adoptNode(next));
        if (url) next.querySelector('[data-url="' + CSS.escape(url) + '"]')?.focus();
      });
    } catch {
      // The server is restarting or the network is down: the next round tries again.
    } finally {
      busy = false;
    }
  };
  setInterval(update, seconds * 1000);
  document.addEventListener("visibilitychange", update);
}
`;
