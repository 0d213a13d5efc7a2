import type { JobState } from "./job-model.ts";

/** The predicate of the claim index (and of the statistics' pending counts): the pending states. */
export const PENDING_PREDICATE = "state IN ('available', 'scheduled', 'retryable')";
/** The predicate of the finished index: the final states. */
export const FINAL_PREDICATE = "state IN ('completed', 'discarded', 'cancelled')";

const PENDING_STATES: readonly JobState[] = ["available", "scheduled", "retryable"];
const FINAL_STATES: readonly JobState[] = ["completed", "discarded", "cancelled"];

/** One part of a bulk count: states that one partial index holds, and that index's predicate. */
export interface BulkPart {
  /** The index's predicate, written as the index has it (so the planner can use it), or null. */
  predicate: string | null;
  /**
   * True for waiting jobs: no index holds them, but every one has parents, so they are found
   * through the dependency table (`id IN (SELECT job_id FROM job_deps)`), not the whole table.
   */
  viaDependencies: boolean;
  states: JobState[];
}

/**
 * Pure: `states` split by the partial index that holds them (pending states: the claim index;
 * final states: the finished index; waiting: the dependency table; any other: none), so that
 * each count reads one index instead of the table. Empty parts are left out.
 *
 * @example
 * ```ts
 * bulkParts(["scheduled", "completed"]);
 * // [{ predicate: PENDING_PREDICATE, ..., states: ["scheduled"] }, { predicate: FINAL_PREDICATE, ..., states: ["completed"] }]
 * ```
 */
export function bulkParts(states: readonly JobState[]): BulkPart[] {
  const other = (s: JobState) => !PENDING_STATES.includes(s) && !FINAL_STATES.includes(s);
  const parts: BulkPart[] = [
    {
      predicate: PENDING_PREDICATE,
      viaDependencies: false,
      states: states.filter((s) => PENDING_STATES.includes(s)),
    },
    {
      predicate: FINAL_PREDICATE,
      viaDependencies: false,
      states: states.filter((s) => FINAL_STATES.includes(s)),
    },
    { predicate: null, viaDependencies: true, states: states.filter((s) => s === "waiting") },
    { predicate: null, viaDependencies: false, states: states.filter((s) => other(s) && s !== "waiting") },
  ];
  return parts.filter((p) => p.states.length > 0);
}
