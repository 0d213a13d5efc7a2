import type { ConvergerRow } from "../api/converger-routes.ts";
import type { Inconsistency, TerminalKey } from "../../store/index.ts";
import { duration, utcTime } from "./format.ts";
import { html, type SafeHtml } from "./html.ts";

/** What the convergers page shows. */
export interface ConvergersView {
  convergers: readonly ConvergerRow[];
  parked: readonly TerminalKey[];
  inconsistencies: readonly Inconsistency[];
  /** The inconsistencies' filter. */
  converger?: string;
  key?: string;
  readOnly: boolean;
}

function changes(value: unknown): string {
  const text = JSON.stringify(value);
  return text === undefined ? "" : text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

/**
 * Pure: the convergers page: each converger's leader and epoch, last sweep and lag, parked keys
 * with retry buttons, a sweep-now button, and the inconsistencies recorded, filterable by
 * converger and key.
 *
 * @example
 * ```ts
 * convergersPage({ ...(await readConvergers(sources)), inconsistencies, readOnly: false });
 * ```
 */
export function convergersPage(view: ConvergersView): SafeHtml {
  const enc = encodeURIComponent;
  const anyHere = view.convergers.some((c) => c.here);
  const anyLeaderHere = view.convergers.some((c) => c.leaderHere);
  return html`<h1>Convergers</h1>
    <div data-refresh="2">
      ${
        view.convergers.length === 0
          ? html`<p class="muted">No converger has run against this database yet.</p>`
          : html`<table>
              <thead>
                <tr>
                  <th>converger</th>
                  <th>leader</th>
                  <th class="n">epoch</th>
                  <th>last sweep</th>
                  <th class="n">lag</th>
                  <th class="n">parked</th>
                  ${view.readOnly ? "" : html`<th>action</th>`}
                </tr>
              </thead>
              <tbody>
                ${view.convergers.map(
                  (c) =>
                    html`<tr data-converger="${c.name}">
                      <td>${c.name}</td>
                      <td>
                        ${
                          c.leader === null
                            ? html`<span class="muted">none</span>`
                            : html`${c.leader}${c.leaderHere ? html` <span class="muted">(this process)</span>` : ""}`
                        }
                        ${c.leaderSince === null || c.leader === null ? "" : html`<br /><span class="muted">since ${utcTime(c.leaderSince)}</span>`}
                      </td>
                      <td class="n">${c.epoch ?? "-"}</td>
                      <td>
                        ${
                          c.lastSweepAt !== null
                            ? utcTime(c.lastSweepAt)
                            : html`<span class="muted"
                                >${c.leaderHere ? "not yet" : "known to its leader"}</span
                              >`
                        }
                        ${c.everyMs === null ? "" : html`<br /><span class="muted">every ${duration(c.everyMs)}</span>`}
                      </td>
                      <td class="n">${c.lagMs === null ? "-" : duration(c.lagMs)}</td>
                      <td class="n">${c.parked}</td>
                      ${
                        view.readOnly
                          ? ""
                          : html`<td>
                              <button data-method="POST" data-url="/api/convergers/${enc(c.name)}/sweep">
                                Sweep now
                              </button>
                              ${
                                c.parked === 0
                                  ? ""
                                  : html`<button
                                      data-method="POST"
                                      data-url="/api/convergers/${enc(c.name)}/parked/retry"
                                    >
                                      Retry all parked
                                    </button>`
                              }
                            </td>`
                      }
                    </tr>`,
                )}
              </tbody>
            </table>`
      }
      ${
        anyHere
          ? ""
          : html`<p class="muted">
              Last sweep and lag are known only to a converger's own processes: open the dashboard of the app
              to see them. Leaders, epochs, parked keys and inconsistencies come from the database.
            </p>`
      }
      <h2>Parked keys</h2>
      ${
        view.parked.length === 0
          ? html`<p class="muted">No key is parked.</p>`
          : html`<table>
              <thead>
                <tr>
                  <th>converger</th>
                  <th>key</th>
                  <th>since</th>
                  <th>error</th>
                  ${view.readOnly ? "" : html`<th>action</th>`}
                </tr>
              </thead>
              <tbody>
                ${view.parked.map(
                  (p) =>
                    html`<tr data-parked="${p.converger}/${p.key}">
                      <td>${p.converger}</td>
                      <td>${p.key}</td>
                      <td>${utcTime(p.at)}</td>
                      <td>${p.message}</td>
                      ${
                        view.readOnly
                          ? ""
                          : html`<td>
                              <button
                                data-method="POST"
                                data-url="/api/convergers/${enc(p.converger)}/keys/${enc(p.key)}/retry"
                              >
                                Retry
                              </button>
                            </td>`
                      }
                    </tr>`,
                )}
              </tbody>
            </table>`
      }
      <h2>Backing off</h2>
      ${(() => {
        const waiting = view.convergers.flatMap((c) =>
          c.backingOff.map((b) => ({ converger: c.name, ...b })),
        );
        if (waiting.length === 0)
          return html`<p class="muted">
            No key is backing
            off${anyLeaderHere ? "" : " in this process (keys backing off are known to their converger's leader: see its dashboard)"}.
          </p>`;
        return html`<table>
          <thead>
            <tr>
              <th>converger</th>
              <th>key</th>
              <th class="n">failures in a row</th>
              <th>next try</th>
              ${view.readOnly ? "" : html`<th>action</th>`}
            </tr>
          </thead>
          <tbody>
            ${waiting.map(
              (b) =>
                html`<tr data-backoff="${b.converger}/${b.key}">
                  <td>${b.converger}</td>
                  <td>${b.key}</td>
                  <td class="n">${b.failures}</td>
                  <td>${utcTime(b.dueAt)}</td>
                  ${
                    view.readOnly
                      ? ""
                      : html`<td>
                          <button
                            data-method="POST"
                            data-url="/api/convergers/${enc(b.converger)}/keys/${enc(b.key)}/run"
                          >
                            Run now
                          </button>
                        </td>`
                  }
                </tr>`,
            )}
          </tbody>
        </table>`;
      })()}
      <p class="muted">
        A parked key failed with a terminal error and is not tried again until it changes; "Retry" clears it
        and its converger's leader runs it again at once. A key backing off after ordinary errors is tried
        again by its leader at its next try; "Run now" asks the leader to run it at once.
      </p>
    </div>
    <h2>Inconsistencies</h2>
    <form class="filters" method="get" action="/ui/convergers">
      <label
        >converger
        <select name="converger">
          <option value="">any</option>
          ${view.convergers.map(
            (c) => html`<option${c.name === view.converger ? html` selected` : ""}>${c.name}</option>`,
          )}
        </select></label
      >
      <label>key <input name="key" value="${view.key ?? ""}" /></label>
      <button type="submit">Filter</button>
    </form>
    <div data-refresh="2">
      ${
        view.inconsistencies.length === 0
          ? html`<p class="muted" id="no-inconsistency">
              No inconsistency
              recorded${view.converger === undefined && view.key === undefined ? "" : " for this filter"}.
            </p>`
          : html`<table id="inconsistencies">
              <thead>
                <tr>
                  <th>when</th>
                  <th>converger</th>
                  <th>key</th>
                  <th>changes</th>
                  <th>leader · epoch</th>
                </tr>
              </thead>
              <tbody>
                ${view.inconsistencies.map(
                  (i) =>
                    html`<tr data-inconsistency="${i.converger}/${i.key}">
                      <td>${utcTime(i.at)}</td>
                      <td>${i.converger}</td>
                      <td>${i.key}</td>
                      <td><code>${changes(i.changes)}</code></td>
                      <td class="muted">${i.holder ?? "-"} · ${i.epoch ?? "-"}</td>
                    </tr>`,
                )}
              </tbody>
            </table>`
      }
    </div>`;
}
