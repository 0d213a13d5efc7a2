import { type CrashSink, currentContext } from "./context.ts";

const sinks = new Set<CrashSink>();

function onUncaughtException(err: unknown, origin: string): void {
  route(err, origin === "unhandledRejection" ? "unhandledRejection" : "uncaughtException");
}

function onUnhandledRejection(reason: unknown): void {
  route(reason, "unhandledRejection");
}

function route(err: unknown, kind: "uncaughtException" | "unhandledRejection"): void {
  const context = currentContext();
  if (context !== undefined && sinks.has(context.sink)) {
    context.sink.crash(context, err, kind);
    return;
  }
  // Nobody's task: every running manager hears of it (each will stop).
  for (const sink of sinks) sink.crash(undefined, err, kind);
}

/**
 * Starts routing the process's uncaught exceptions and unhandled rejections to `sink` (a running
 * Manager). The process-level handlers are installed while at least one sink is registered and
 * removed when the last one leaves, so the process keeps Node's default crash behaviour otherwise.
 */
export function captureCrashes(sink: CrashSink): () => void {
  if (sinks.size === 0) {
    process.on("uncaughtException", onUncaughtException);
    process.on("unhandledRejection", onUnhandledRejection);
  }
  sinks.add(sink);
  return () => {
    if (!sinks.delete(sink)) return;
    if (sinks.size === 0) {
      process.off("uncaughtException", onUncaughtException);
      process.off("unhandledRejection", onUnhandledRejection);
    }
  };
}
