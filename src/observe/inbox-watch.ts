import type { Tracer } from "@opentelemetry/api";
import type { Counter, Histogram, Registry } from "prom-client";
import type { Inbox, InboxFileObservation, InboxObserver } from "../inbox/index.ts";
import { CHANNELS } from "./channels.ts";
import type { ErrorReporter } from "./on-error.ts";
import { endWorkSpan, runInWorkSpan, startWorkSpan } from "./part-tracing.ts";
import { promClient } from "./prom.ts";

const BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600];

/**
 * The app's observer of its inboxes: `tend_inbox_files_total{inbox,outcome=done|failed|retried}`,
 * `tend_inbox_processing_seconds{inbox,outcome}`, and the gauges `tend_inbox_backlog` and
 * `tend_inbox_in_flight` and `tend_inbox_oldest_file_age_seconds` read from each inbox at scrape time; failures go to the
 * error hook (`inbox.failed`), every file's end to `tend:inbox:file`, and with an OpenTelemetry
 * SDK one span per file (`inbox <name>`), active while `process` runs.
 *
 * @example
 * ```ts
 * const watch = new InboxWatch();
 * createInbox(options, { log, observer: watch });
 * ```
 */
export class InboxWatch implements InboxObserver {
  errors: ErrorReporter | undefined;
  tracer: Tracer | undefined;
  #files: Counter<"inbox" | "outcome"> | undefined;
  #seconds: Histogram<"inbox" | "outcome"> | undefined;

  /** Registers the inbox families on `registry`, reading gauges from `inboxes`. */
  register(registry: Registry, inboxes: () => readonly Inbox[]): void {
    const { Counter, Gauge, Histogram } = promClient();
    const registers = [registry];
    this.#files = new Counter({
      name: "tend_inbox_files_total",
      help: "Inbox files by outcome: done, failed (moved to failed/), retried (an attempt failed).",
      labelNames: ["inbox", "outcome"] as const,
      registers,
    });
    this.#seconds = new Histogram({
      name: "tend_inbox_processing_seconds",
      help: "Time from claiming an inbox file to its outcome.",
      labelNames: ["inbox", "outcome"] as const,
      buckets: BUCKETS,
      registers,
    });
    const gauge = (name: string, help: string, pick: (i: Inbox) => number): void => {
      new Gauge({
        name,
        help,
        labelNames: ["inbox"] as const,
        registers,
        collect() {
          this.reset();
          for (const inbox of inboxes()) this.set({ inbox: inbox.name }, pick(inbox));
        },
      });
    };
    gauge(
      "tend_inbox_backlog",
      "Complete files waiting in the inbox folder (as of the last scan).",
      (i) => i.counters.backlog,
    );
    gauge("tend_inbox_in_flight", "Inbox files being processed now.", (i) => i.counters.inFlight);
    gauge(
      "tend_inbox_oldest_file_age_seconds",
      "Seconds since the oldest file waiting to be claimed (complete, not yet taken) first appeared in the inbox folder; 0 when none waits.",
      (i) => {
        const since = i.oldestWaitingSince();
        return since === null ? 0 : Math.max(0, (Date.now() - since) / 1000);
      },
    );
  }

  fileStarted(inbox: string, file: string): InboxFileObservation | undefined {
    if (this.tracer === undefined) return undefined;
    const span = startWorkSpan(this.tracer, `inbox ${inbox}`, {
      "tend.inbox.name": inbox,
      "tend.inbox.file": file,
    });
    if (span === undefined) return undefined;
    let attempts = 0;
    return {
      run: (fn) => {
        attempts++;
        return runInWorkSpan(span, fn);
      },
      end: (outcome, error) =>
        endWorkSpan(span, { "tend.inbox.outcome": outcome, "tend.inbox.attempts": attempts }, error),
    };
  }

  fileEnded(
    inbox: string,
    file: string,
    outcome: "done" | "failed" | "retried",
    ms: number,
    error?: unknown,
  ): void {
    this.#files?.inc({ inbox, outcome });
    if (outcome !== "retried") this.#seconds?.observe({ inbox, outcome }, ms / 1000);
    if (outcome === "failed")
      this.errors?.report(error, { part: "inbox", event: "inbox.failed", inbox, file });
    if (CHANNELS.inboxFile.hasSubscribers)
      CHANNELS.inboxFile.publish({ inbox, file, outcome, durationMs: ms, error });
  }
}
