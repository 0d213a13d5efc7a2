import type { AuditEntry, QueueStats, StateCounts } from "../../store/index.ts";
import type { JobView } from "../api/job-view.ts";
import { errorEntries, JOB_STATES, lastError } from "../../store/index.ts";
import type { activityView } from "../api/activity.ts";
import { lineChart } from "./chart.ts";
import { storedTime } from "./format.ts";
import { html, type SafeHtml } from "./html.ts";

/** Pure: a query string from the set values (each encoded). */
function queryString(values: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(values)) if (v !== undefined && v !== "") q.set(k, v);
  const text = q.toString();
  return text === "" ? "" : `?${text}`;
}

/**
 * Pure: the overview: every queue with its counts by state, rates and oldest age; each count
 * links to the jobs list filtered on it.
 *
 * @example
 * ```ts
 * overviewPage(await store.jobs.stats());
 * ```
 */
export function overviewPage(
  queues: readonly QueueStats[],
  activity?: ActivityView,
  totals?: StateCounts,
): SafeHtml {
  const states = ["available", "running", "scheduled", "retryable", "waiting"] as const;
  const finals = ["completed", "discarded", "cancelled"] as const;
  // All-time counts of the final states (exact on a small table, else estimated from a sample).
  const total = (queue: string, state: (typeof finals)[number]): string => {
    const n = totals?.counts.find((c) => c.queue === queue && c.state === state)?.count ?? 0;
    return totals?.exact === false ? `≈${n.toLocaleString("en")}` : String(n);
  };
  const finalCell = (q: QueueStats, s: (typeof finals)[number]) =>
    html`<td class="n">
      <a href="/ui/jobs${queryString({ queue: q.queue, state: s })}" data-total="${q.queue}:${s}"
        >${total(q.queue, s)}</a
      >
    </td>`;
  const cell = (q: QueueStats, s: (typeof states)[number]) =>
    html`<td class="n">
      <a href="/ui/jobs${queryString({ queue: q.queue, state: s })}" data-count="${q.queue}:${s}">${q[s]}</a>
    </td>`;
  return html`<h1>Queues</h1>
    <div data-live="queues">
      ${
        queues.length === 0
          ? html`<p class="muted">No queue has pending jobs or activity in the last minute.</p>`
          : html`<table>
              <thead>
                <tr>
                  <th>queue</th>
                  ${states.map((s) => html`<th class="n">${s}</th>`)}
                  ${totals === undefined ? "" : finals.map((s) => html`<th class="n">${s}</th>`)}
                  <th class="n">enqueued/s</th>
                  <th class="n">completed/s</th>
                  <th class="n">oldest available</th>
                </tr>
              </thead>
              <tbody>
                ${queues.map(
                  (q) =>
                    html`<tr>
                      <td><a href="/ui/jobs${queryString({ queue: q.queue })}">${q.queue}</a></td>
                      ${states.map((s) => cell(q, s))}
                      ${totals === undefined ? "" : finals.map((s) => finalCell(q, s))}
                      <td class="n">${q.enqueuedPerSec.toFixed(2)}</td>
                      <td class="n">${q.completedPerSec.toFixed(2)}</td>
                      <td class="n">${Math.round(q.oldestAvailableAgeMs / 1000)} s</td>
                    </tr> `,
                )}
              </tbody>
            </table>`
      }
    </div>
    ${
      totals === undefined
        ? ""
        : html`<p class="muted">
            Completed, discarded and cancelled: all time,
            ${
              totals.exact
                ? "exact"
                : `estimated (≈) from ${totals.sampledRows.toLocaleString("en")} jobs sampled across the table`
            }.
          </p>`
    }
    <p>
      <a href="/ui/jobs?state=discarded">Discarded jobs</a> ·
      <a href="/ui/jobs?state=retryable">Retrying jobs</a>
    </p>
    ${activity === undefined ? "" : lastHour(activity)}`;
}

/** The activity view the overview draws (see activityView). */
export type ActivityView = ReturnType<typeof activityView>;

function clock(d: Date): string {
  return d.toISOString().slice(11, 16);
}

/**
 * Pure: the overview's last hour: per queue, the jobs enqueued and finished (by final state, each
 * a link to the list), a chart of enqueued and completed per minute and one of the estimated
 * backlog; says when a series was cut at its row cap.
 */
export function lastHour(a: ActivityView): SafeHtml {
  const minutes = Math.round((a.buckets * a.bucketMs) / 60_000);
  const cut = [
    a.enqueuedFrom > a.since ? `enqueued jobs counted from ${clock(a.enqueuedFrom)} UTC` : "",
    a.finishedFrom > a.since ? `finished jobs counted from ${clock(a.finishedFrom)} UTC` : "",
  ].filter((t) => t !== "");
  const finals = ["completed", "discarded", "cancelled"] as const;
  return html`<h2>Last ${minutes} minutes</h2>
    <p class="muted">
      Per minute, from ${clock(a.since)} UTC: <span class="key-enq">enqueued</span>,
      <span class="key-done">completed</span>, <span class="key-fail">discarded and cancelled</span>; the
      backlog (pending and running jobs) is estimated backwards from now.
      ${cut.length === 0 ? "" : html`Busy hour: ${cut.join(", ")} (the newest 20,000 of each).`}
    </p>
    ${
      a.queues.length === 0
        ? html`<p class="muted">No job was enqueued or finished in this time.</p>`
        : html`<table data-activity="1">
            <thead>
              <tr>
                <th>queue</th>
                <th class="n">enqueued</th>
                ${finals.map((f) => html`<th class="n">${f}</th>`)}
                <th>per minute</th>
                <th>backlog (estimated)</th>
              </tr>
            </thead>
            <tbody>
              ${a.queues.map(
                (q) =>
                  html`<tr>
                    <td><a href="/ui/jobs${queryString({ queue: q.queue })}">${q.queue}</a></td>
                    <td class="n" data-hour="${q.queue}:enqueued">${q.total.enqueued}</td>
                    ${finals.map(
                      (f) =>
                        html`<td class="n">
                          <a
                            href="/ui/jobs${queryString({ queue: q.queue, state: f })}"
                            data-hour="${q.queue}:${f}"
                            >${q.total[f]}</a
                          >
                        </td>`,
                    )}
                    <td>
                      ${lineChart(
                        [
                          { values: q.enqueued, className: "c-enq", label: "enqueued" },
                          { values: q.completed, className: "c-done", label: "completed" },
                          {
                            values: q.discarded.map((d, i) => d + q.cancelled[i]!),
                            className: "c-fail",
                            label: "discarded and cancelled",
                          },
                        ],
                        `${q.queue}: jobs per minute`,
                      )}
                    </td>
                    <td>
                      ${lineChart(
                        [{ values: q.backlog, className: "c-backlog", label: "backlog" }],
                        `${q.queue}: backlog`,
                        160,
                      )}
                    </td>
                  </tr>`,
              )}
            </tbody>
          </table>`
    }`;
}

/** The filters of the jobs list page. */
export interface JobsView {
  state?: string;
  queue?: string;
  kind?: string;
  /** The creation time range as given in the URL (ISO 8601). */
  from?: string | undefined;
  to?: string | undefined;
  /** Search text (payloads and errors). */
  q?: string | undefined;
  next: string | null;
  /** Set when the page searched a bounded window of ids down to this one (see listPage). */
  searchedTo?: string | null;
  /** No admin token: no bulk form. */
  readOnly: boolean;
}

/** Pure: the bulk form of a filtered list: the count first, then the confirmation (app.js). */
function bulkForm(view: JobsView): SafeHtml | "" {
  if (view.readOnly || (view.state === undefined && view.queue === undefined && view.kind === undefined))
    return "";
  // Bulk actions take state, queue and kind only: offered only when the list shows exactly those.
  if (view.from !== undefined || view.to !== undefined || view.q !== undefined) return "";
  const hidden = (name: string, value: string | undefined) =>
    value === undefined ? "" : html`<input type="hidden" name="${name}" value="${value}" />`;
  return html`<form class="bulk filters" data-bulk="1">
    ${hidden("state", view.state)} ${hidden("queue", view.queue)} ${hidden("kind", view.kind)}
    <label
      >every job matching this filter
      <select name="action">
        <option value="cancel">cancel</option>
        <option value="retry">retry</option>
        <option value="delete">delete</option>
      </select></label
    >
    <button type="submit">Count</button>
    <span data-bulk-result class="muted" aria-live="polite"></span>
  </form>`;
}

/**
 * Pure: the jobs list with its filter form and a link to the next page (keyset cursor).
 *
 * @example
 * ```ts
 * jobsPage(jobs, { state: "discarded", next: "1042" });
 * ```
 */
export function jobsPage(jobs: readonly JobView[], view: JobsView): SafeHtml {
  const filters = {
    state: view.state,
    queue: view.queue,
    kind: view.kind,
    from: view.from,
    to: view.to,
    q: view.q,
  };
  return html`<h1>Jobs</h1>
    <form class="filters" method="get" action="/ui/jobs">
      <label
        >state
        <select name="state">
          <option value="">any</option>
          ${JOB_STATES.map((s) => html`<option${s === view.state ? html` selected` : ""}>${s}</option>`)}
        </select></label
      >
      <label>queue <input name="queue" value="${view.queue ?? ""}" /></label>
      <label>kind <input name="kind" value="${view.kind ?? ""}" /></label>
      <label
        >created from (UTC)
        <input name="from" value="${view.from ?? ""}" placeholder="2026-12-02T13:00Z" size="17"
      /></label>
      <label>to <input name="to" value="${view.to ?? ""}" placeholder="2026-12-02T14:00Z" size="17" /></label>
      <label
        >text in payload or errors <input name="q" type="search" value="${view.q ?? ""}" maxlength="200"
      /></label>
      <button type="submit">Filter</button>
    </form>
    ${bulkForm(view)}
    ${
      jobs.length === 0
        ? html`<p class="muted">No job matches.</p>`
        : html`<table>
            <thead>
              <tr>
                <th>id</th>
                <th>kind</th>
                <th>queue</th>
                <th>state</th>
                <th class="n">attempt</th>
                <th>run at</th>
                <th>last error</th>
              </tr>
            </thead>
            <tbody>
              ${jobs.map(
                (j) =>
                  html`<tr>
                    <td><a href="/ui/jobs/${encodeURIComponent(j.id)}">${j.id}</a></td>
                    <td>${j.kind}</td>
                    <td>${j.queue}</td>
                    <td class="state-${j.state}">${j.state}</td>
                    <td class="n">${j.attempt}/${j.maxAttempts}</td>
                    <td>${storedTime(j.runAt)}</td>
                    <td>${lastError(j.errors, 80)}</td>
                  </tr> `,
              )}
            </tbody>
          </table>`
    }
    ${
      view.next === null
        ? ""
        : html`<p>
            ${
              view.searchedTo === undefined || view.searchedTo === null
                ? ""
                : html`<span class="muted">Searched the jobs down to id ${view.searchedTo}.</span>`
            }
            <a rel="next" href="/ui/jobs${queryString({ ...filters, before: view.next })}">Older jobs →</a>
          </p>`
    }`;
}

/**
 * Pure: one job: its fields, payload, result and every error, with retry/cancel/delete buttons
 * when actions are allowed.
 *
 * @example
 * ```ts
 * jobPage(job, { readOnly: false });
 * ```
 */
export function jobPage(job: JobView, options: { readOnly: boolean }): SafeHtml {
  const id = encodeURIComponent(job.id);
  const errors = errorEntries(job.errors);
  const final = job.state === "completed" || job.state === "discarded" || job.state === "cancelled";
  const buttons: SafeHtml[] = [];
  if (!options.readOnly) {
    if (final) buttons.push(html`<button data-method="POST" data-url="/api/jobs/${id}/retry">Retry</button>`);
    if (!final && !job.cancelRequested)
      buttons.push(
        html`<button data-method="POST" data-url="/api/jobs/${id}/cancel" class="danger">Cancel</button>`,
      );
    if (job.state !== "running")
      buttons.push(
        html`<button data-method="DELETE" data-url="/api/jobs/${id}" data-after="/ui/jobs" class="danger">
          Delete
        </button>`,
      );
  }
  return html`<div data-live="job" data-job="${job.id}">
    <h1>Job ${job.id} <span class="state-${job.state}" id="state">${job.state}</span></h1>
    ${buttons.length > 0 ? html`<p class="actions">${buttons}</p>` : ""}
    <dl>
      <dt>kind</dt>
      <dd>${job.kind}</dd>
      <dt>queue</dt>
      <dd><a href="/ui/jobs?queue=${encodeURIComponent(job.queue)}">${job.queue}</a></dd>
      <dt>priority</dt>
      <dd>${job.priority}</dd>
      <dt>attempt</dt>
      <dd>${job.attempt}/${job.maxAttempts} (worker lost ${job.lost}/${job.maxLost})</dd>
      <dt>created</dt>
      <dd>${storedTime(job.createdAt)}</dd>
      <dt>run at</dt>
      <dd>${storedTime(job.runAt)}</dd>
      <dt>started</dt>
      <dd>${storedTime(job.startedAt)}</dd>
      <dt>finished</dt>
      <dd>${storedTime(job.finishedAt)}</dd>
      ${
        job.uniqueKey === null
          ? ""
          : html`<dt>unique key</dt>
              <dd>${job.uniqueKey}</dd>`
      }
      ${
        job.workerId === null
          ? ""
          : html`<dt>worker</dt>
              <dd>${job.workerId} (lease until ${storedTime(job.leaseExpiresAt)})</dd>`
      }
      ${
        job.cancelRequested
          ? html`<dt>cancel</dt>
              <dd>requested</dd>`
          : ""
      }
      ${
        job.batchId === null
          ? ""
          : html`<dt>batch</dt>
              <dd>${job.batchId} #${job.batchIndex}</dd>`
      }
    </dl>
    <h2>Payload</h2>
    ${
      job.payloadHidden === true
        ? html`<p class="muted" id="payload-hidden">Hidden: this dashboard hides payloads and results.</p>`
        : html`<pre id="payload">${JSON.stringify(job.payload, null, 2)}</pre>
            ${
              job.result === null
                ? ""
                : html`<h2>Result</h2>
                    <pre id="result">${JSON.stringify(job.result, null, 2)}</pre>`
            }`
    }
    <h2>Errors</h2>
    ${
      errors.length === 0
        ? html`<p class="muted">None.</p>`
        : errors.map(
            (e) =>
              html`<h3>attempt ${e.attempt} · ${e.at}${e.code === null ? "" : html` · ${e.code}`}</h3>
                <pre>${e.message}${e.stack === null ? "" : `\n${e.stack}`}</pre>`,
          )
    }
  </div>`;
}

/**
 * Pure: the audit trail, newest first.
 *
 * @example
 * ```ts
 * auditPage(entries, null);
 * ```
 */
export function auditPage(entries: readonly AuditEntry[], next: string | null): SafeHtml {
  return html`<h1>Audit</h1>
    ${
      entries.length === 0
        ? html`<p class="muted">No action was taken through the admin API yet.</p>`
        : html`<table>
            <thead>
              <tr>
                <th>when</th>
                <th>action</th>
                <th>target</th>
                <th>outcome</th>
                <th>detail</th>
                <th>token</th>
              </tr>
            </thead>
            <tbody>
              ${entries.map(
                (e) =>
                  html`<tr>
                    <td>${storedTime(e.at)}</td>
                    <td>${e.action}</td>
                    <td>${e.target}</td>
                    <td>${e.outcome}</td>
                    <td>${Object.keys(e.detail).length === 0 ? "" : JSON.stringify(e.detail)}</td>
                    <td>${e.tokenId ?? "-"}</td>
                  </tr>`,
              )}
            </tbody>
          </table>`
    }
    ${next === null ? "" : html`<p><a rel="next" href="/ui/audit?before=${encodeURIComponent(next)}">Older entries →</a></p>`}`;
}
