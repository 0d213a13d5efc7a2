/** The kill loop of the scenarios that SIGKILL a fleet at random and start each victim again. */
import type { Child } from "./processes.ts";
import { type ScenarioContext, sleep } from "./scenario.ts";

/**
 * Every `everyMs`, SIGKILLs one member of `fleet` picked at random and puts `restart()` in its
 * place, until `remaining()` says nothing is left or `deadlineMs` has passed. Logs progress every
 * 5 s. Returns the number of kills and how long the loop ran.
 */
export async function killLoop(
  ctx: ScenarioContext,
  fleet: Child[],
  restart: () => Child,
  options: { everyMs: number; deadlineMs: number; remaining: () => Promise<number>; what: string },
): Promise<{ kills: number; ms: number }> {
  const started = Date.now();
  let kills = 0;
  let lastReport = started;
  let left = await options.remaining();
  while (left > 0 && Date.now() - started < options.deadlineMs) {
    await sleep(options.everyMs);
    const i = Math.floor(Math.random() * fleet.length);
    await ctx.procs.kill(fleet[i]!);
    kills++;
    fleet[i] = restart();
    left = await options.remaining();
    if (Date.now() - lastReport > 5_000) {
      lastReport = Date.now();
      ctx.log(`${kills} kills, ${left} ${options.what} left`);
    }
  }
  ctx.log(`kills stopped after ${kills} kills (${left} ${options.what} left)`);
  return { kills, ms: Date.now() - started };
}
