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
dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; }
dt { color: var(--muted); }
`;

/**
 * `/ui/app.js`: the action buttons (`data-action` `POST`/`DELETE` on `data-url`) send the admin
 * token as a Bearer header, asked once per tab and kept in sessionStorage; then reload.
 */
export const APP_JS = `
"use strict";
document.addEventListener("click", async (event) => {
  const button = event.target instanceof Element ? event.target.closest("button[data-url]") : null;
  if (!button) return;
  event.preventDefault();
  let token = sessionStorage.getItem("tend-admin-token");
  if (!token) {
    token = prompt("Admin token");
    if (!token) return;
    sessionStorage.setItem("tend-admin-token", token);
  }
  const res = await fetch(button.dataset.url, { method: button.dataset.method, headers: { authorization: "Bearer " + token } });
  if (res.status === 403) sessionStorage.removeItem("tend-admin-token");
  if (!res.ok) {
    const body = await res.json().catch(() => ({}));
    alert((body.error && body.error.message) || "HTTP " + res.status);
    return;
  }
  if (button.dataset.after) location.assign(button.dataset.after);
  else location.reload();
});
`;
