import type { QueueRow } from "../api/queue-routes.ts";
import { duration, utcTime } from "./format.ts";
import { html, type SafeHtml } from "./html.ts";

const STATES = ["available", "running", "scheduled", "retryable", "waiting"] as const;

function limits(q: QueueRow): SafeHtml | string {
  const parts: string[] = [];
  // Set by an operator for the whole queue (tend queues limit), held by every process.
  if (q.concurrencyLimit !== null) parts.push(`queue: ${q.concurrencyLimit} at once`);
  if (q.rateLimit !== null) parts.push(`queue: ${q.rateLimit.limit} per ${duration(q.rateLimit.periodMs)}`);
  if (q.concurrencyHere !== null && q.concurrencyHere > 0) parts.push(`${q.concurrencyHere} at once here`);
  for (const k of q.limits) {
    if (k.concurrencyLimit !== null) parts.push(`${k.kind}: ${k.concurrencyLimit} at once per key`);
    if (k.rateLimit !== null)
      parts.push(`${k.kind}: ${k.rateLimit.limit} per ${duration(k.rateLimit.periodMs)}`);
  }
  return parts.length === 0 ? html`<span class="muted">-</span>` : parts.join("; ");
}

/**
 * Pure: the queues page: each queue's counts by state, limits, live processes serving it, and
 * whether it is paused, with a pause or resume button when actions are allowed.
 *
 * @example
 * ```ts
 * queuesPage(await readQueueRows(sources), { readOnly: false, limitsKnown: true });
 * ```
 */
export function queuesPage(
  queues: readonly QueueRow[],
  options: { readOnly: boolean; limitsKnown: boolean },
): SafeHtml {
  return html`<h1>Queues</h1>
    <div data-refresh="2">
      ${
        queues.length === 0
          ? html`<p class="muted">No queue has jobs, settings or a worker here yet.</p>`
          : html`<table>
              <thead>
                <tr>
                  <th>queue</th>
                  <th>status</th>
                  ${STATES.map((s) => html`<th class="n">${s}</th>`)}
                  <th class="n">oldest waiting</th>
                  <th class="n">processes</th>
                  <th>limits</th>
                  ${options.readOnly ? "" : html`<th>action</th>`}
                </tr>
              </thead>
              <tbody>
                ${queues.map(
                  (q) =>
                    html`<tr data-queue="${q.queue}">
                      <td><a href="/ui/jobs?queue=${encodeURIComponent(q.queue)}">${q.queue}</a></td>
                      <td class="${q.paused ? "state-discarded" : "state-completed"}" data-status>
                        ${q.paused ? "paused" : "running"}
                        ${q.changedAt === null ? "" : html`<span class="muted">since ${utcTime(q.changedAt)}</span>`}
                      </td>
                      ${STATES.map(
                        (s) =>
                          html`<td class="n">
                            <a href="/ui/jobs?queue=${encodeURIComponent(q.queue)}&amp;state=${s}">${q[s]}</a>
                          </td>`,
                      )}
                      <td class="n">
                        ${q.oldestAvailableAgeMs === 0 ? "-" : duration(q.oldestAvailableAgeMs)}
                      </td>
                      <td class="n">${q.processes}</td>
                      <td>${limits(q)}</td>
                      ${
                        options.readOnly
                          ? ""
                          : html`<td>
                              ${
                                q.paused
                                  ? html`<button
                                      data-method="POST"
                                      data-url="/api/queues/${encodeURIComponent(q.queue)}/resume"
                                    >
                                      Resume
                                    </button>`
                                  : html`<button
                                      class="danger"
                                      data-method="POST"
                                      data-url="/api/queues/${encodeURIComponent(q.queue)}/pause"
                                    >
                                      Pause
                                    </button>`
                              }
                            </td>`
                      }
                    </tr>`,
                )}
              </tbody>
            </table>`
      }
    </div>
    <p class="muted">
      A paused queue's jobs are not claimed by any process until it is resumed; jobs already running finish.
      ${
        options.limitsKnown
          ? "Queue limits are those set with tend queues limit; the others are those this process defines."
          : "Queue limits are those set with tend queues limit; per-kind and per-key limits are defined in the app's code: open the dashboard of one of its processes to see them."
      }
    </p>`;
}
