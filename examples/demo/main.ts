/**
 * A first tend program: a heartbeat, a periodic chore and a one-time warm-up, run by one Manager.
 * Press Ctrl-C (or send SIGTERM) for a graceful shutdown; press it again to exit at once.
 *
 *   npm start            # pretty logs in a terminal
 *   TEND_LOG_PRETTY=0 npm start   # JSON lines
 */
import { setTimeout as sleep } from "node:timers/promises";
import { every, main } from "../../src/lifecycle/index.ts";

await main((manager, log) => {
  manager.runEphemeral(async function warmUp(signal: AbortSignal) {
    await sleep(200, undefined, { signal });
    log.info("warm-up done");
  });

  manager.run(
    every(
      "1s",
      async function heartbeat() {
        log.info({ rss: process.memoryUsage.rss() }, "still alive");
      },
      { immediate: true },
    ),
  );

  manager.run(
    every(
      "3s",
      async function tidy(signal: AbortSignal) {
        // Pretend to work for a while; the work honours the signal, so shutdown is prompt.
        await sleep(500, undefined, { signal });
        log.info("tidied up");
      },
      { jitter: "500ms", timeout: "2s" },
    ),
  );

  manager.onShutdownStart((reason) => log.info({ reason }, "no longer ready"));
  manager.cleanup(async function closeResources() {
    log.info("resources closed");
  });
});
