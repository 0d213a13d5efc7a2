import type { InboxRow } from "../api/inbox-routes.ts";
import { bytes, utcTime } from "./format.ts";
import { html, type SafeHtml } from "./html.ts";

/**
 * Pure: the inbox page: each inbox of the serving process with its backlog, files in flight,
 * counters and failed files with their error and a retry button; or, where inbox state is not
 * known (`tend dashboard`), a note saying so.
 *
 * @example
 * ```ts
 * inboxPage(await readInboxes(sources), { readOnly: false });
 * ```
 */
export function inboxPage(
  view: { visible: boolean; inboxes: readonly InboxRow[] },
  options: { readOnly: boolean },
): SafeHtml {
  if (!view.visible)
    return html`<h1>Inbox</h1>
      <p class="muted" id="inbox-not-visible">
        Inbox state lives in the inbox folders, not in the database: this dashboard serves the database alone
        and cannot see it. Open the dashboard of a process of the app that runs the inbox (its
        <code>http.dashboard</code>) to see backlogs and failed files and to retry them.
      </p>`;
  return html`<h1>Inbox</h1>
    <div data-refresh="2">
      ${
        view.inboxes.length === 0
          ? html`<p class="muted">This process runs no inbox.</p>`
          : view.inboxes.map(
              (i) =>
                html`<section data-inbox="${i.name}">
                  <h2>${i.name}</h2>
                  <dl>
                    <dt>folder</dt>
                    <dd><code>${i.dir}</code></dd>
                    <dt>backlog</dt>
                    <dd data-backlog>
                      ${i.backlog}
                      waiting${i.oldestWaitingSince === null ? "" : html` (oldest seen ${utcTime(i.oldestWaitingSince)})`}
                    </dd>
                    <dt>in flight</dt>
                    <dd data-in-flight>${i.inFlight} of ${i.concurrency}</dd>
                    <dt>since start</dt>
                    <dd>
                      ${i.claimed} claimed, ${i.done} done, ${i.failed} failed, ${i.retried} attempts retried
                    </dd>
                  </dl>
                  <h3>Failed files</h3>
                  ${
                    i.failedFiles.length === 0
                      ? html`<p class="muted">None in <code>${i.failedDir}</code>.</p>`
                      : html`<table>
                          <thead>
                            <tr>
                              <th>file</th>
                              <th>failed</th>
                              <th class="n">size</th>
                              <th class="n">attempts</th>
                              <th>error</th>
                              ${options.readOnly ? "" : html`<th>action</th>`}
                            </tr>
                          </thead>
                          <tbody>
                            ${i.failedFiles.map(
                              (f) =>
                                html`<tr data-failed-file="${f.name}">
                                  <td>
                                    ${f.name}${f.originalName === f.name ? "" : html`<br /><span class="muted">arrived as ${f.originalName}</span>`}
                                  </td>
                                  <td>${utcTime(f.failedAt)}</td>
                                  <td class="n">${bytes(f.size)}</td>
                                  <td class="n">${f.attempts ?? "-"}</td>
                                  <td class="error">
                                    ${f.error ?? html`<span class="muted">no sidecar</span>`}
                                  </td>
                                  ${
                                    options.readOnly
                                      ? ""
                                      : html`<td>
                                          <button
                                            data-method="POST"
                                            data-url="/api/inboxes/${encodeURIComponent(i.name)}/failed/${encodeURIComponent(f.name)}/retry"
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
                </section>`,
            )
      }
    </div>
    <p class="muted">
      "Retry" moves a failed file back into its inbox (and deletes its sidecar); the inbox claims it again.
    </p>`;
}
