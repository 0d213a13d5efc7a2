import type { CronRow } from "../api/cron-routes.ts";
import { utcTime } from "./format.ts";
import { html, type SafeHtml } from "./html.ts";

/**
 * Pure: the cron page: each registered schedule in plain words with its expression, next runs,
 * last tick and its job, skipped ticks, and whether it is enabled, with run-now and
 * enable/disable buttons when actions are allowed.
 *
 * @example
 * ```ts
 * cronPage(await readCronRows(sources), { readOnly: false });
 * ```
 */
export function cronPage(entries: readonly CronRow[], options: { readOnly: boolean }): SafeHtml {
  return html`<h1>Cron</h1>
    <div data-refresh="5">
      ${
        entries.length === 0
          ? html`<p class="muted">
              No cron schedule is registered (a process registers its schedules when it starts them).
            </p>`
          : html`<table>
              <thead>
                <tr>
                  <th>schedule</th>
                  <th>when</th>
                  <th>next runs</th>
                  <th>last tick</th>
                  <th>status</th>
                  ${options.readOnly ? "" : html`<th>actions</th>`}
                </tr>
              </thead>
              <tbody>
                ${entries.map((e) => {
                  const name = encodeURIComponent(e.name);
                  return html`<tr data-cron="${e.name}">
                    <td>${e.name}<br /><span class="muted">${e.kind}</span></td>
                    <td>
                      ${e.description}
                      ${e.timezone === null ? "" : html`<span class="muted">(${e.timezone})</span>`}<br /><code
                        class="muted"
                        >${e.expression}</code
                      >
                    </td>
                    <td>
                      ${e.nextRuns.length === 0 ? "-" : e.nextRuns.map((d) => html`${utcTime(d)}<br />`)}
                    </td>
                    <td>
                      ${utcTime(e.lastTick)}
                      ${
                        e.lastJobId === null
                          ? ""
                          : html`<br /><a href="/ui/jobs/${encodeURIComponent(e.lastJobId)}"
                                >job ${e.lastJobId}</a
                              >
                              <span class="state-${e.lastJobState ?? "none"}"
                                >${e.lastJobState ?? "pruned"}</span
                              >`
                      }
                      ${e.skipped === 0 ? "" : html`<br /><span class="muted">${e.skipped} skipped (overlap)</span>`}
                    </td>
                    <td class="${e.paused ? "state-discarded" : "state-completed"}" data-status>
                      ${e.paused ? "disabled" : "enabled"}
                    </td>
                    ${
                      options.readOnly
                        ? ""
                        : html`<td>
                            <button data-method="POST" data-url="/api/cron/${name}/run">Run now</button>
                            ${
                              e.paused
                                ? html`<button data-method="POST" data-url="/api/cron/${name}/resume">
                                    Enable
                                  </button>`
                                : html`<button
                                    class="danger"
                                    data-method="POST"
                                    data-url="/api/cron/${name}/pause"
                                  >
                                    Disable
                                  </button>`
                            }
                          </td>`
                    }
                  </tr>`;
                })}
              </tbody>
            </table>`
      }
    </div>
    <p class="muted">
      Times are UTC. "Run now" enqueues the schedule's job at once without recording a tick; a disabled
      schedule records its ticks and enqueues nothing until it is enabled again.
    </p>`;
}
