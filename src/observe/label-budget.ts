import type { Registry } from "prom-client";

/**
 * The label value that stands for every queue or kind past its budget. Queue and kind names are
 * letters, digits and `._:-`, so no real queue or kind is ever named so.
 */
export const OTHER_LABEL = "(other)";

/** How many queue names a registry's metrics label exactly, besides the queues this process runs. */
export const MAX_QUEUE_LABELS = 50;

/** How many kind names a registry's job metrics label exactly, besides the kinds this process runs. */
export const MAX_KIND_LABELS = 100;

/**
 * The label values one label of a registry's metrics may take: each value seen gets its own until
 * `limit` values have one; later values read {@link OTHER_LABEL}, with one warning the first time.
 * A value admitted keeps its label for the life of the process, so series never move between
 * labels. Values this process defines (the kinds it runs and their queues) are admitted whatever
 * the count: they are bounded by the program.
 *
 * @example
 * ```ts
 * const queues = new LabelBudget("queue", 2, warn);
 * queues.label("a"); // "a"
 * queues.label("b"); // "b"
 * queues.label("c"); // "(other)", and warns once
 * queues.label("c", true); // "c": a queue this process runs
 * ```
 */
export class LabelBudget {
  readonly #admitted = new Set<string>();
  readonly #name: string;
  readonly #limit: number;
  readonly #onFull: (message: string) => void;
  #warned = false;

  constructor(name: string, limit: number, onFull: (message: string) => void) {
    this.#name = name;
    this.#limit = limit;
    this.#onFull = onFull;
  }

  /**
   * The label of `value`: itself once admitted, or while fewer than the limit are, or when
   * `defined` (a kind or queue of this program); else {@link OTHER_LABEL}.
   */
  label(value: string, defined = false): string {
    if (this.#admitted.has(value)) return value;
    if (defined || this.#admitted.size < this.#limit) {
      this.#admitted.add(value);
      return value;
    }
    if (!this.#warned) {
      this.#warned = true;
      this.#onFull(
        `tend metrics: more than ${this.#limit} ${this.#name} names seen (${JSON.stringify(value)} and later ` +
          `ones not run by this process are counted under ${this.#name}="${OTHER_LABEL}"), so that the label ` +
          `values stay bounded; see docs/observability.md`,
      );
    }
    return OTHER_LABEL;
  }
}

/** The label budgets of one registry: its queue and kind labels. */
export interface LabelBudgets {
  readonly queues: LabelBudget;
  readonly kinds: LabelBudget;
}

const budgets = new WeakMap<Registry, LabelBudgets>();

/**
 * Emits a warning that metric label values were folded into "(other)": a process warning of type
 * `TendWarning` with the stable code `TEND_W_METRIC_LABELS_FOLDED` (callers warn once each).
 *
 * @example
 * ```ts
 * warnLabelsFolded("tend metrics: more than 100 kind names seen ...");
 * ```
 */
export function warnLabelsFolded(message: string): void {
  process.emitWarning(message, { type: "TendWarning", code: "TEND_W_METRIC_LABELS_FOLDED" });
}

/**
 * The label budgets shared by every tend metric of `registry` (the job metrics and the queue
 * gauges read from the store agree on which queues are labelled exactly).
 *
 * @example
 * ```ts
 * const { queues } = labelBudgets(registry);
 * gauge.set({ queue: queues.label(stats.queue) }, stats.available);
 * ```
 */
export function labelBudgets(registry: Registry): LabelBudgets {
  let found = budgets.get(registry);
  if (found === undefined) {
    found = {
      queues: new LabelBudget("queue", MAX_QUEUE_LABELS, warnLabelsFolded),
      kinds: new LabelBudget("kind", MAX_KIND_LABELS, warnLabelsFolded),
    };
    budgets.set(registry, found);
  }
  return found;
}
