import type { MasterRow } from "../api/worker-routes.ts";
import type { ProcessRecord } from "../../store/index.ts";
import { bytes, duration, utcTime } from "./format.ts";
import { html, type SafeHtml } from "./html.ts";

/**
 * Pure: the workers page: every process in the registry (host, pid, uptime, memory, jobs in
 * flight, last heartbeat, alive) and the `tend supervise` masters with their workers.
 *
 * @example
 * ```ts
 * workersPage(await readWorkers(sources), Date.now());
 * ```
 */
export function workersPage(
  view: { workers: readonly ProcessRecord[]; masters: readonly MasterRow[]; fleet: boolean },
  now: number,
): SafeHtml {
  // A supervised worker's restarts (its slot's before it started, or as its master reports them).
  const restarts = new Map<string, number>();
  for (const m of view.masters)
    for (const [pid, n] of Object.entries(m.restarts)) restarts.set(`${m.host}:${pid}`, n);
  return html`<h1>Workers</h1>
    <div data-refresh="5">
      ${
        view.workers.length === 0
          ? html`<p class="muted">
              No tend process is registered (each app process registers itself while it runs).
            </p>`
          : html`<table>
              <thead>
                <tr>
                  <th>host</th>
                  <th class="n">pid</th>
                  <th>status</th>
                  <th class="n">uptime</th>
                  <th class="n">RSS</th>
                  <th class="n">jobs in flight</th>
                  <th>queues</th>
                  <th>last heartbeat</th>
                  <th class="n">restarts</th>
                  <th>version</th>
                </tr>
              </thead>
              <tbody>
                ${view.workers.map(
                  (w) =>
                    html`<tr data-worker="${w.id}">
                      <td>${w.host}</td>
                      <td class="n">
                        ${w.pid}${w.masterPid === null ? "" : html`<br /><span class="muted">master ${w.masterPid}</span>`}
                      </td>
                      <td class="${w.alive ? "state-completed" : "state-discarded"}">
                        ${w.alive ? "alive" : "gone"}
                      </td>
                      <td class="n">${w.alive ? duration(Math.max(0, now - w.startedAt.getTime())) : "-"}</td>
                      <td class="n">${bytes(w.rssBytes)}</td>
                      <td class="n">${w.inFlight} / ${w.concurrency}</td>
                      <td>${w.queues.join(", ") || html`<span class="muted">none</span>`}</td>
                      <td>${utcTime(w.heartbeatAt)}</td>
                      <td class="n">
                        ${restarts.get(`${w.host}:${w.pid}`) ?? html`<span class="muted">-</span>`}
                      </td>
                      <td class="muted">${w.version}</td>
                    </tr>`,
                )}
              </tbody>
            </table>`
      }
      <h2>Supervisors</h2>
      ${
        view.masters.length === 0
          ? html`<p class="muted">No process runs under <code>tend supervise</code>.</p>`
          : html`<table>
              <thead>
                <tr>
                  <th>master</th>
                  <th>status</th>
                  <th class="n">workers</th>
                  <th class="n">restarts</th>
                  <th>program</th>
                  <th>last heartbeat</th>
                </tr>
              </thead>
              <tbody>
                ${view.masters.map(
                  (m) =>
                    html`<tr data-master="${m.host}:${m.pid}">
                      <td>${m.host}:${m.pid}</td>
                      <td class="${m.alive ? "state-completed" : "state-discarded"}">
                        ${m.alive ? "alive" : "gone"}
                      </td>
                      <td class="n">
                        ${m.workers.filter((w) => w.alive).length}${m.desired === null ? "" : html` of ${m.desired} (min ${m.min}, max ${m.max})`}
                      </td>
                      <td class="n">
                        ${Object.keys(m.restarts).length === 0 ? html`<span class="muted">-</span>` : Object.values(m.restarts).reduce((a, b) => a + b, 0)}
                      </td>
                      <td><code>${m.program ?? "-"}</code></td>
                      <td>${utcTime(m.heartbeatAt)}</td>
                    </tr>`,
                )}
              </tbody>
            </table>`
      }
      ${
        view.fleet
          ? ""
          : html`<p class="muted">
              On SQLite, masters are shown through their registered workers (the master's pid); the
              supervisor's own status is in its status folder (<code>tend status</code>).
            </p>`
      }
    </div>`;
}
