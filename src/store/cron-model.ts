import { checkOneOf, checkString } from "../errors/index.ts";
import type { JobState } from "./job-model.ts";

/**
 * The data model of cron entries as the store keeps them: what a process registered (name, kind,
 * expression, time zone, overlap policy), whether an operator paused it, and its tick history.
 */

/** What a tick does while the previous tick's job is still pending or running. */
export type CronOverlap = "skip" | "allow";

export const CRON_OVERLAPS: readonly CronOverlap[] = ["skip", "allow"];

/** A cron entry as a process defines it (see JobStore.registerCron). */
export interface CronEntryDefinition {
  name: string;
  kind: string;
  expression: string;
  /** IANA time zone the expression is read in, or null for the defining process's. */
  timezone: string | null;
  overlap: CronOverlap;
}

/** A registered cron entry with its state (see JobStore.listCron). */
export interface CronEntryState extends CronEntryDefinition {
  paused: boolean;
  /** When a process last registered the entry (at its start). */
  registeredAt: Date;
  /**
   * When a running process last said it schedules the entry (at its start, then every minute; see
   * JobStore.touchCron). An entry removed from the code stops being seen.
   */
  lastSeenAt: Date;
  /** The last recorded tick (enqueued, skipped or paused), or null. */
  lastTick: Date | null;
  /** The job of the last tick that enqueued one, or null. */
  lastJobId: string | null;
  /** That job's state now (null when none, or pruned). */
  lastJobState: JobState | null;
  /** Ticks skipped because the previous tick's job was still pending or running. */
  skipped: number;
  /** The last skipped tick, or null. */
  lastSkippedAt: Date | null;
}

/**
 * What one cron tick did: `enqueued` its job; `skipped` it (overlap `skip` and the previous tick's
 * job still pending or running); `paused` (the entry is paused: nothing enqueued); or `taken`
 * (that tick or a later one was already recorded, by another process).
 */
export type CronTickOutcome = "enqueued" | "skipped" | "paused" | "taken";

/** Result of JobStore.cronTick. */
export interface CronTickResult {
  outcome: CronTickOutcome;
  /** The job enqueued (`enqueued`), or the previous tick's job still in the way (`skipped`); else null. */
  jobId: string | null;
}

/**
 * Throws TEND_E_INVALID_STORE_ARGUMENT unless `e` is a cron entry definition.
 *
 * @example
 * ```ts
 * checkCronEntry({ name: "nightly", kind: "purge", expression: "0 3 * * *", timezone: null, overlap: "skip" });
 * ```
 */
export function checkCronEntry(e: CronEntryDefinition): void {
  const code = "TEND_E_INVALID_STORE_ARGUMENT";
  checkString(code, "cron entry name", e?.name);
  checkString(code, "cron entry kind", e.kind);
  checkString(code, "cron entry expression", e.expression);
  if (e.timezone !== null) checkString(code, "cron entry timezone", e.timezone);
  checkOneOf(code, "cron entry overlap", e.overlap, CRON_OVERLAPS);
}
