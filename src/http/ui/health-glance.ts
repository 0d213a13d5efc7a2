import type { ConvergerRow } from "../api/converger-routes.ts";
import type { InboxRow } from "../api/inbox-routes.ts";
import type { MasterRow } from "../api/worker-routes.ts";
import type { ProcessRecord } from "../../store/index.ts";
import { duration } from "./format.ts";
import { html, type SafeHtml } from "./html.ts";

/** What the overview's health summary reads: the convergers, inboxes and processes pages' data. */
export interface HealthView {
  convergers: readonly ConvergerRow[];
  /** Inboxes of this process; `visible` false when the server is not the app (`tend dashboard`). */
  inbox: { visible: boolean; inboxes: readonly InboxRow[] };
  workers: readonly ProcessRecord[];
  masters: readonly MasterRow[];
}

/** A problem worth a colour: `bad` is drawn as a failure, `ok` as fine, undefined as neutral. */
type Tone = "bad" | "ok" | undefined;

function tile(title: string, href: string, lines: ReadonlyArray<[string, Tone]>): SafeHtml {
  return html`<section class="glance" data-glance="${title.toLowerCase()}">
    <h3><a href="${href}">${title}</a></h3>
    <ul>
      ${lines.map(
        ([text, tone]) =>
          html`<li class="${tone === "bad" ? "state-discarded" : tone === "ok" ? "state-completed" : ""}">
            ${text}
          </li>`,
      )}
    </ul>
  </section>`;
}

/**
 * Pure: the overview's health at a glance: convergers (how many lead nowhere, parked keys, the
 * worst lag known here), inboxes (backlog, files in flight, failed files) and processes (alive,
 * gone, supervisors), each linking to its page; problems drawn as failures.
 *
 * @example
 * ```ts
 * healthGlance({ convergers, inbox, workers, masters });
 * ```
 */
export function healthGlance(v: HealthView): SafeHtml {
  const leaderless = v.convergers.filter((c) => c.leader === null).length;
  const parked = v.convergers.reduce((n, c) => n + c.parked, 0);
  const lags = v.convergers.map((c) => c.lagMs).filter((l): l is number => l !== null);
  const worstLag = lags.length === 0 ? null : Math.max(...lags);
  const convergers: Array<[string, Tone]> =
    v.convergers.length === 0
      ? [["none known", undefined]]
      : [
          [
            leaderless === 0
              ? `${v.convergers.length} led`
              : `${leaderless} of ${v.convergers.length} without a leader`,
            leaderless === 0 ? "ok" : "bad",
          ],
          [`${parked} parked key(s)`, parked === 0 ? undefined : "bad"],
          ...(worstLag === null
            ? []
            : ([[`lag ${duration(worstLag)}`, worstLag > 0 ? "bad" : "ok"]] as Array<[string, Tone]>)),
        ];
  const sum = (pick: (i: InboxRow) => number) => v.inbox.inboxes.reduce((n, i) => n + pick(i), 0);
  const failedFiles = sum((i) => i.failedFiles.length);
  const inbox: Array<[string, Tone]> = !v.inbox.visible
    ? [["visible from the app's own dashboard", undefined]]
    : v.inbox.inboxes.length === 0
      ? [["none in this app", undefined]]
      : [
          [`${sum((i) => i.backlog)} waiting, ${sum((i) => i.inFlight)} in flight`, undefined],
          [`${failedFiles} failed file(s)`, failedFiles === 0 ? "ok" : "bad"],
        ];
  const alive = v.workers.filter((w) => w.alive).length;
  const gone = v.workers.length - alive;
  const workers: Array<[string, Tone]> = [
    [`${alive} alive`, alive === 0 ? "bad" : "ok"],
    ...(gone === 0 ? [] : ([[`${gone} gone (no heartbeat)`, "bad"]] as Array<[string, Tone]>)),
    [`${v.masters.filter((m) => m.alive).length} supervisor(s)`, undefined],
  ];
  return html`<h2>Health</h2>
    <div class="glances" data-refresh="5">
      ${tile("Convergers", "/ui/convergers", convergers)} ${tile("Inbox", "/ui/inbox", inbox)}
      ${tile("Workers", "/ui/workers", workers)}
    </div>`;
}
