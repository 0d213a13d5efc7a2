/**
 * The frame of one chaos scenario: its flags, a temp folder, the processes it starts, cleanups
 * that run whatever happens (also on SIGINT/SIGTERM from the runner), and the one JSON verdict
 * line it prints on stdout: `{"scenario", "driver", "ok", ...counts, "notes"}`.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Processes } from "./processes.ts";

/** What a scenario's body reports: its verdict fields besides the scenario's name and driver. */
export interface Outcome {
  ok: boolean;
  notes: string[];
  [count: string]: unknown;
}

/** The verdict line. */
export interface Verdict extends Outcome {
  scenario: string;
  driver: string;
}

/** What a scenario runs on: a job store's driver, or plain files (the inbox). */
export type Driver = "sqlite" | "postgres" | "files";

/** What a scenario's body gets. */
export interface ScenarioContext {
  /** `--smoke`: small sizes for CI. */
  smoke: boolean;
  /** `--driver sqlite|postgres` (scenarios that run on both), else the scenario's own. */
  driver: Driver;
  /** A fresh temp folder, removed at the end (unless CHAOS_KEEP=1). */
  dir: string;
  /** The scenario's child processes; all are killed at the end. */
  procs: Processes;
  /** Runs `fn` at the end, last registered first, whatever happened. */
  defer(fn: () => unknown): void;
  /** A progress line on stderr, with the time since the scenario started. */
  log(message: string): void;
}

/**
 * Runs one scenario: `body` returns the verdict's fields; an error becomes a failed verdict with
 * the error in its notes. Sets the exit code (0 ok, 1 failed).
 *
 * @example
 * ```ts
 * await runScenario("master-kill", "sqlite", async (ctx) => ({ ok: true, notes: [] }));
 * ```
 */
export async function runScenario(
  scenario: string,
  defaultDriver: Driver,
  body: (ctx: ScenarioContext) => Promise<Outcome>,
): Promise<void> {
  const { values } = parseArgs({
    options: { smoke: { type: "boolean", default: false }, driver: { type: "string" } },
    allowPositionals: false,
  });
  const driver = values.driver ?? defaultDriver;
  if (driver !== "sqlite" && driver !== "postgres" && driver !== "files") {
    throw new Error(`--driver must be sqlite or postgres, got ${JSON.stringify(driver)}`);
  }
  const started = Date.now();
  const dir = await mkdtemp(join(tmpdir(), `tend-chaos-${scenario}-`));
  const procs = new Processes(dir);
  const cleanups: Array<() => unknown> = [];
  const log = (message: string) =>
    process.stderr.write(
      `[${scenario}/${driver} ${((Date.now() - started) / 1000).toFixed(1)}s] ${message}\n`,
    );
  let cleaned: Promise<void> | null = null;
  const cleanup = (): Promise<void> => {
    cleaned ??= (async () => {
      await procs.stopAll().catch((err: unknown) => log(`cleanup: stopping processes: ${String(err)}`));
      for (const fn of cleanups.reverse()) {
        try {
          await fn();
        } catch (err) {
          log(`cleanup: ${(err as Error).message}`);
        }
      }
      if (process.env["CHAOS_KEEP"] === "1") log(`kept ${dir} (CHAOS_KEEP=1)`);
      else await rm(dir, { recursive: true, force: true });
    })();
    return cleaned;
  };
  const onSignal = (signal: NodeJS.Signals) => {
    log(`${signal}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  let outcome: Outcome;
  try {
    outcome = await body({
      smoke: values.smoke,
      driver,
      dir,
      procs,
      defer: (fn) => cleanups.push(fn),
      log,
    });
  } catch (err) {
    outcome = { ok: false, notes: [`the scenario failed: ${(err as Error).stack ?? String(err)}`] };
  }
  await cleanup();
  process.off("SIGINT", onSignal);
  process.off("SIGTERM", onSignal);
  const { ok, notes, ...counts } = outcome;
  const verdict: Verdict = {
    scenario,
    driver,
    ok,
    ...counts,
    seconds: Math.round((Date.now() - started) / 100) / 10,
    notes,
  };
  process.stdout.write(`${JSON.stringify(verdict)}\n`);
  process.exitCode = ok ? 0 : 1;
}

/** Resolves after `ms` (for pacing a kill loop or a writer; never to wait for a condition). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
