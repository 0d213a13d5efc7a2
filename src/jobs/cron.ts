import { setTimeout as sleep } from "node:timers/promises";
import { Cron } from "croner";
import type { Logger } from "pino";
import { invalidArgument } from "../errors/index.ts";
import type { Task } from "../lifecycle/index.ts";
import type { CronEntryDefinition, CronOverlap, NewJob, Store } from "../store/index.ts";
import { catchUpRetryDelayMs } from "./cron-retry.ts";
import { processTimezone } from "./cron-zone.ts";

/** Options of a cron schedule. */
export interface CronOptions {
  /** Unique name of the schedule (default `<kind>@<expression>`); ticks are recorded under it. */
  name?: string;
  /**
   * IANA time zone the expression is read in (default: the process's, as it resolves `TZ` or the
   * system's zone; the schedule is registered in the store with that zone).
   */
  timezone?: string;
  /** On start, enqueue the most recent tick missed while no process ran (default true). */
  catchUp?: boolean;
  /**
   * What a tick does while the job of the schedule's previous tick is still scheduled, available,
   * running or retryable: `"skip"` (default) records the tick without enqueueing (and logs it);
   * `"allow"` enqueues anyway, so that jobs of several ticks may run at once.
   */
  overlap?: CronOverlap;
}

/** A validated schedule; `build(tick)` makes the job for one tick. */
export interface CronSchedule {
  name: string;
  kind: string;
  expression: string;
  /** IANA time zone, or null: the process's. */
  timezone: string | null;
  overlap: CronOverlap;
  catchUp: boolean;
  pattern: Cron;
  build(tick: Date): NewJob;
}

/**
 * Parses a cron expression (5 or 6 fields, or a nickname like `@hourly`) read in `timezone`, or
 * throws TEND_E_INVALID_CRON. Everything croner would only find out when asked for a tick is
 * checked here: the timezone must be a non-empty IANA name the runtime knows, and the expression
 * must match at least one future time (a 30 February or a past year never fires).
 *
 * @example
 * ```ts
 * const pattern = parseCron("0 3 * * *", "Europe/Berlin");
 * pattern.nextRun(); // the next 03:00 in Berlin
 * ```
 */
export function parseCron(expression: unknown, timezone?: unknown): Cron {
  if (typeof expression !== "string" || expression.trim() === "") {
    throw invalidArgument(
      "TEND_E_INVALID_CRON",
      "cron expression",
      expression,
      'a cron expression such as "0 3 * * *"',
    );
  }
  const tz = timezone === undefined ? undefined : checkTimezone(timezone);
  let pattern: Cron;
  try {
    pattern = new Cron(expression, { paused: true, ...(tz === undefined ? {} : { timezone: tz }) });
  } catch (err) {
    throw invalidArgument(
      "TEND_E_INVALID_CRON",
      "cron expression",
      expression,
      `a valid cron expression such as "0 3 * * *" (${(err as Error).message})`,
    );
  }
  let next: Date | null;
  try {
    next = pattern.nextRun();
  } catch (err) {
    throw invalidArgument(
      "TEND_E_INVALID_CRON",
      "cron expression or timezone",
      { expression, timezone },
      `an expression and timezone croner can compute ticks for (${(err as Error).message})`,
    );
  }
  if (next === null) {
    throw invalidArgument(
      "TEND_E_INVALID_CRON",
      "cron expression",
      expression,
      "an expression that matches a future time (this one never fires: check the day, month and year fields)",
    );
  }
  return pattern;
}

/** Returns `timezone` if it is an IANA time zone name this runtime knows; else throws TEND_E_INVALID_CRON. */
function checkTimezone(timezone: unknown): string {
  const expected = 'an IANA time zone name such as "Europe/Berlin" or "UTC"';
  if (typeof timezone !== "string" || timezone.trim() === "") {
    throw invalidArgument("TEND_E_INVALID_CRON", "cron timezone", timezone, expected);
  }
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: timezone });
  } catch {
    throw invalidArgument(
      "TEND_E_INVALID_CRON",
      "cron timezone",
      timezone,
      `${expected} (this runtime does not know it)`,
    );
  }
  return timezone;
}

/**
 * The next `count` ticks of an expression read in `timezone` (null: the process's) after `from`,
 * or an empty list when the expression cannot be read here (for listing registered entries).
 *
 * @example
 * ```ts
 * nextCronRuns("0 3 * * *", "Europe/Berlin", 3); // the next three 03:00 in Berlin
 * ```
 */
export function nextCronRuns(
  expression: string,
  timezone: string | null,
  count: number,
  from = new Date(),
): Date[] {
  try {
    return parseCron(expression, timezone ?? undefined).nextRuns(count, from);
  } catch {
    return [];
  }
}

/**
 * Pure: the latest tick of `pattern` in (after, until], or null when there is none (however many
 * ticks there are: a schedule down for days may have missed more than {@link ticksBetween} lists).
 *
 * @example
 * ```ts
 * latestTickBetween(parseCron("* * * * *"), lastTick, new Date()); // the last minute that began
 * ```
 */
export function latestTickBetween(pattern: Cron, after: Date, until: Date): Date | null {
  const next = pattern.nextRun(after);
  if (next === null || next.getTime() > until.getTime()) return null;
  // The latest run up to `until` (croner's previous runs end before their reference).
  const [previous] = pattern.previousRuns(1, new Date(until.getTime() + 1));
  return previous !== undefined && previous.getTime() > after.getTime() ? previous : next;
}

/** Pure: the ticks of `schedule` in (after, until], at most `limit` of them, oldest first. */
export function ticksBetween(pattern: Cron, after: Date, until: Date, limit = 1000): Date[] {
  const out: Date[] = [];
  let cursor: Date | null = after;
  while (out.length < limit) {
    cursor = pattern.nextRun(cursor);
    if (cursor === null || cursor.getTime() > until.getTime()) break;
    out.push(cursor);
  }
  return out;
}

/** How often a scheduling process records its cron entries as seen (their `lastSeenAt`). */
export const CRON_SEEN_EVERY_MS = 60_000;

/** A schedule's catch-up not done yet: when to try it, and how many tries failed in a row. */
export interface PendingCatchUp {
  at: number;
  failures: number;
}

/**
 * Enqueues each schedule's ticks. Every process may run this task: the store records each tick
 * and inserts its job in one transaction only if the tick is new, so each tick is enqueued exactly
 * once across processes and machines.
 *
 * A schedule with `catchUp` first enqueues the latest tick it missed. A catch-up that fails (the
 * database unreachable at start) is tried again, 1 s, 2 s, 4 s ... at most 30 s apart, until it
 * succeeds or the task stops; the schedule's own ticks wait for it, so that they do not supersede
 * the missed tick. A try that recorded the tick but lost the answer enqueues nothing more: the
 * next try finds the tick recorded.
 */
export function cronTask(store: Store, schedules: readonly CronSchedule[], log: Logger): Task {
  return {
    name: "jobs.cron",
    async run(signal) {
      if (schedules.length === 0) return;
      // Registered for `tend cron list` and pause; retried before each tick until it succeeds.
      let registered = await register(store, schedules, log);
      const next = new Map<CronSchedule, Date | null>();
      const catchUps = new Map<CronSchedule, PendingCatchUp>();
      const now = new Date();
      for (const s of schedules) {
        next.set(s, s.pattern.nextRun(now));
        if (s.catchUp) catchUps.set(s, { at: now.getTime(), failures: 0 });
      }
      // The entries' lastSeenAt moves every minute while this process schedules them, so that
      // `tend cron list` can tell an entry removed from the code (see CRON_SEEN_EVERY_MS).
      let nextSeen = Date.now() + CRON_SEEN_EVERY_MS;
      while (!signal.aborted) {
        const wakeAt = nextWake(next, catchUps);
        if (wakeAt === null) return;
        const wait = Math.min(wakeAt, nextSeen) - Date.now();
        if (wait > 0) await sleep(wait, undefined, { signal }).catch(() => {});
        if (signal.aborted) return;
        const at = Date.now();
        if (!registered) registered = await register(store, schedules, log);
        if (at >= nextSeen) {
          nextSeen = at + CRON_SEEN_EVERY_MS;
          await store.jobs.touchCron(schedules.map(definitionOf)).catch((err: unknown) => {
            log.warn({ err }, "recording the cron schedules as seen failed; retrying in a minute");
          });
        }
        for (const [s, pending] of catchUps) {
          if (pending.at > at || signal.aborted) continue;
          const caught = await catchUp(store, s, new Date(at), log);
          if (caught === false) {
            pending.failures++;
            const retryMs = catchUpRetryDelayMs(pending.failures);
            pending.at = Date.now() + retryMs;
            log.warn(
              { schedule: s.name, failures: pending.failures, retryMs },
              `cron catch-up failed; retrying in ${retryMs / 1000} s (the schedule's ticks wait for it)`,
            );
            continue;
          }
          catchUps.delete(s);
          // Ticks up to the one caught up are recorded: the schedule goes on after it.
          const tick = next.get(s);
          if (caught !== null && tick != null && tick.getTime() <= caught.getTime())
            next.set(s, s.pattern.nextRun(caught));
        }
        let failed = false;
        for (const [s, tick] of next) {
          if (tick === null || tick.getTime() > at || catchUps.has(s)) continue;
          // A tick that could not be recorded (database down) is retried, not skipped.
          if (await enqueueTick(store, s, tick, log))
            next.set(s, s.pattern.nextRun(new Date(Math.max(at, tick.getTime()))));
          else failed = true;
        }
        if (failed) await sleep(1_000, undefined, { signal }).catch(() => {});
      }
    },
  };
}

/**
 * Pure: when the cron task has something to do next: the earliest tick of a schedule, or for a
 * schedule whose catch-up is pending, its next try (its ticks wait for it); null when nothing will.
 */
export function nextWake(
  next: ReadonlyMap<CronSchedule, Date | null>,
  catchUps: ReadonlyMap<CronSchedule, PendingCatchUp>,
): number | null {
  let earliest: number | null = null;
  for (const [s, tick] of next) {
    const at = catchUps.get(s)?.at ?? tick?.getTime() ?? null;
    if (at !== null && (earliest === null || at < earliest)) earliest = at;
  }
  return earliest;
}

/**
 * Enqueues the latest tick of `s` missed up to `now` (none when the schedule never ticked before).
 * Returns that tick once the store recorded it (or a later one), null when none was missed, and
 * false when the store could not be read or written (to be tried again).
 */
async function catchUp(store: Store, s: CronSchedule, now: Date, log: Logger): Promise<Date | null | false> {
  let last: Date | null;
  try {
    last = await store.jobs.lastCronTick(s.name);
  } catch (err) {
    log.warn({ err, schedule: s.name }, "reading the last cron tick for the catch-up failed");
    return false;
  }
  if (last === null) return null;
  const latest = latestTickBetween(s.pattern, last, now);
  if (latest === null) return null;
  // Counted up to 1,000 (for the log line; only the latest tick is enqueued).
  const missed = ticksBetween(s.pattern, last, now).length;
  log.info(
    { schedule: s.name, missed: missed >= 1000 ? "1000+" : missed, tick: latest },
    "enqueueing the latest missed cron tick",
  );
  return (await enqueueTick(store, s, latest, log, "at the catch-up's next try")) ? latest : false;
}

/** What the store registers of a schedule. */
function definitionOf(s: CronSchedule): CronEntryDefinition {
  // Without a timezone the schedule is read in this process's: registered as such, so that
  // `tend cron list` and the dashboard compute its next runs in that zone, not in theirs.
  const timezone = s.timezone ?? processTimezone();
  return { name: s.name, kind: s.kind, expression: s.expression, timezone, overlap: s.overlap };
}

async function register(store: Store, schedules: readonly CronSchedule[], log: Logger): Promise<boolean> {
  try {
    await store.jobs.registerCron(schedules.map(definitionOf));
    return true;
  } catch (err) {
    log.warn({ err }, "registering cron schedules failed; retrying at the next tick");
    return false;
  }
}

async function enqueueTick(
  store: Store,
  s: CronSchedule,
  tick: Date,
  log: Logger,
  retry = "in 1 s",
): Promise<boolean> {
  try {
    const { outcome, jobId } = await store.jobs.cronTick(s.name, tick, s.build(tick), s.overlap);
    switch (outcome) {
      case "skipped":
        log.info(
          { schedule: s.name, tick, runningJobId: jobId },
          `cron tick skipped: the previous tick's job ${jobId} is still pending or running (overlap "skip")`,
        );
        break;
      case "paused":
        log.debug({ schedule: s.name, tick }, "cron tick not enqueued: the schedule is paused");
        break;
      default:
        log.debug(
          { schedule: s.name, tick, jobId },
          outcome === "enqueued" ? "cron tick enqueued" : "cron tick already recorded elsewhere",
        );
    }
    return true;
  } catch (err) {
    log.error({ err, schedule: s.name, tick }, `enqueueing a cron tick failed; retrying ${retry}`);
    return false;
  }
}
