import { AsyncLocalStorage } from "node:async_hooks";
import type { Logger } from "pino";
import type { FailureKind } from "./errors.ts";

/** Where a crash is reported: the Manager that runs the task. */
export interface CrashSink {
  /** Records a crash; `context` is undefined when no task's context was active. */
  crash(
    context: TaskContext | undefined,
    err: unknown,
    kind: Exclude<FailureKind, "threw" | "rejected">,
  ): void;
}

/** What each task's code can see of the task it runs in. */
export interface TaskContext {
  /** The task's name (or the cleanup's, when `cleanup` is true). */
  readonly task: string;
  /** True inside a cleanup registered with Manager.cleanup. */
  readonly cleanup?: boolean;
  readonly log: Logger;
  readonly sink: CrashSink;
}

const storage = new AsyncLocalStorage<TaskContext>();

/** Runs `fn` inside a task's context, so crashes and logs of everything it starts are attributed to it. */
export function runInTaskContext<T>(context: TaskContext, fn: () => T): T {
  return storage.run(context, fn);
}

/**
 * The task the calling code runs in (its name and logger), or undefined outside any task.
 *
 * @example
 * ```ts
 * const log = currentTask()?.log ?? fallbackLog;
 * log.info("tick");
 * ```
 */
export function currentTask(): { readonly task: string; readonly log: Logger } | undefined {
  return storage.getStore();
}

/** The raw context, for the crash handlers. */
export function currentContext(): TaskContext | undefined {
  return storage.getStore();
}
