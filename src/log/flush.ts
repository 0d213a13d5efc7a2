import type { Logger } from "pino";
import { checkLogger, checkNumber } from "../errors/index.ts";
import { pinoModule } from "./pino-module.ts";

/** The parts of pino's default destination (sonic-boom) that flushing needs. */
interface Destination {
  flush?: (cb?: (err?: Error) => void) => void;
  once?: (event: string, listener: () => void) => unknown;
  /** True while an asynchronous write is in flight (sonic-boom's own field, read-only here). */
  _writing?: boolean;
}

/**
 * Waits until every line the logger has accepted is written (at most `timeoutMs`). Call it before
 * `process.exit()`: with the asynchronous destination, `logger.flush(cb)` alone may call back
 * while a write is still in flight, and exiting then can reorder or lose the last lines.
 *
 * @example
 * ```ts
 * log.info("clean shutdown");
 * await flushLogger(log);
 * process.exit(0);
 * ```
 */
export async function flushLogger(log: Logger, timeoutMs = 2_000): Promise<void> {
  checkLogger("TEND_E_INVALID_LOG_OPTIONS", "log", log);
  checkNumber("TEND_E_INVALID_LOG_OPTIONS", "flush timeoutMs", timeoutMs, 0, 2_147_483_647);
  const stream = (log as unknown as Record<symbol, unknown>)[pinoModule.symbols.streamSym] as
    Destination | undefined;
  const deadline = Date.now() + timeoutMs;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
  });
  try {
    await Promise.race([new Promise<void>((resolve) => log.flush(() => resolve())), timedOut]);
    while (stream?._writing === true && typeof stream.once === "function" && Date.now() < deadline) {
      const drained = new Promise<void>((resolve) => stream.once?.("drain", resolve));
      await Promise.race([drained, timedOut]);
    }
  } finally {
    clearTimeout(timer);
  }
}
