import type { Logger } from "pino";
import type { TendError } from "../errors/index.ts";
import { type CrashSink, runInTaskContext, type TaskContext } from "./context.ts";
import type { Duration } from "./duration.ts";
import { monotonicMs } from "./clock.ts";
import { cleanupFailed, cleanupTimeout, messageOf } from "./errors.ts";

/** Options for {@link Manager.cleanup}. */
export interface CleanupOptions {
  /** Name used in logs and errors. Default: the function's name, else `cleanup #<n>`. */
  name?: string;
  /** This cleanup's timeout. Default: the manager's `cleanupTimeout`. */
  timeout?: Duration;
}

/** A cleanup: gets a signal that aborts when its timeout runs out. */
export type Cleanup = (signal: AbortSignal) => unknown;

/** A cleanup as the Manager keeps it. */
export interface RegisteredCleanup {
  readonly name: string;
  readonly fn: Cleanup;
  readonly timeoutMs: number;
}

/**
 * Runs one cleanup under its own timeout, inside its own context (so a crash it causes is
 * recorded against it), and records its failure or timeout. Never throws.
 */
export async function runCleanup(
  cleanup: RegisteredCleanup,
  { log, sink, record }: { log: Logger; sink: CrashSink; record: (error: TendError) => void },
): Promise<void> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), cleanup.timeoutMs);
  });
  const context: TaskContext = {
    task: cleanup.name,
    cleanup: true,
    log: log.child({ cleanup: cleanup.name }),
    sink,
  };
  const started = monotonicMs();
  try {
    const result = await Promise.race([
      (async () => runInTaskContext(context, () => cleanup.fn(controller.signal)))(),
      timedOut,
    ]);
    if (result === "timeout") {
      controller.abort(new DOMException("cleanup timed out", "TimeoutError"));
      log.error({ cleanup: cleanup.name, timeoutMs: cleanup.timeoutMs }, "cleanup timed out");
      record(cleanupTimeout(cleanup.name, cleanup.timeoutMs));
    } else {
      log.debug({ cleanup: cleanup.name, durationMs: Math.round(monotonicMs() - started) }, "cleanup done");
    }
  } catch (err) {
    log.error({ cleanup: cleanup.name, err }, `cleanup failed: ${messageOf(err)}`);
    record(cleanupFailed(cleanup.name, err));
  } finally {
    clearTimeout(timer);
  }
}
