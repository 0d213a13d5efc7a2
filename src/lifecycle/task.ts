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
