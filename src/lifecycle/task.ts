import { invalidArgument, readOr } from "../errors/index.ts";

/**
 * A long-lived unit of work run by a {@link Manager}: the job worker, each converger, the inbox,
 * the HTTP server and the signal listener are all Tasks.
 *
 * `run` resolves when the task is done. It must return promptly once `signal` aborts; returning
 * (or throwing an `AbortError`) after the abort is a clean stop, not a failure.
 *
 * @example
 * ```ts
 * const heartbeat: Task = {
 *   name: "heartbeat",
 *   async run(signal) {
 *     while (!signal.aborted) await setTimeout(1000, undefined, { signal }).catch(() => {});
 *   },
 * };
 * ```
 */
export interface Task {
  readonly name: string;
  run(signal: AbortSignal): Promise<void>;
}

/** A Task, or a plain named async function taking the abort signal (its name is the task's name). */
export type TaskLike = Task | ((signal: AbortSignal) => Promise<void>);

/**
 * Turns a {@link TaskLike} into a {@link Task}, checking it. Throws `TEND_E_INVALID_TASK` for
 * anything else (including a function or task without a name).
 *
 * @example
 * ```ts
 * const task = toTask(async function poll(signal: AbortSignal) {});
 * task.name; // "poll"
 * ```
 */
export function toTask(value: unknown): Task {
  if (typeof value === "function") {
    const name = value.name;
    if (typeof name !== "string" || name.trim() === "") {
      throw invalidArgument(
        "TEND_E_INVALID_TASK",
        "task",
        value,
        "a named function (signal) => Promise<void>",
      );
    }
    const fn = value as (signal: AbortSignal) => Promise<void>;
    return { name, run: (signal) => fn(signal) };
  }
  if (
    typeof value === "object" &&
    value !== null &&
    readableTask(value as { name?: unknown; run?: unknown })
  ) {
    return value as Task;
  }
  throw invalidArgument(
    "TEND_E_INVALID_TASK",
    "task",
    value,
    "a Task { name: non-empty string; run(signal): Promise<void> } or a named async function",
  );
}

/** Whether an object has a non-empty string `name` and a `run` function; false when they cannot be read. */
function readableTask(candidate: { name?: unknown; run?: unknown }): boolean {
  return readOr(
    () =>
      typeof candidate.name === "string" &&
      candidate.name.trim() !== "" &&
      typeof candidate.run === "function",
    false,
  );
}
