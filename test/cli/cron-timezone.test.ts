import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { execFile } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { describe, it } from "node:test";
import { promisify } from "node:util";
import { waitFor } from "../support/wait.ts";
import { sqliteStoreForSuite } from "./helpers.ts";

const TEND = join(import.meta.dirname, "..", "..", "bin", "tend.js");
const SCHEDULER = join(import.meta.dirname, "fixtures", "cron-scheduler.ts");
const exec = promisify(execFile);

/** Runs `bin/tend.js` in a child process whose local time zone is `tz`. */
async function tendIn(tz: string, ...args: string[]): Promise<{ stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, TZ: tz };
  delete env["TEND_DATABASE_URL"];
  return await exec(process.execPath, [TEND, ...args], { env, timeout: 30_000 });
}

/** The hour (UTC) of each ISO time. */
const utcHours = (runs: readonly string[]): number[] => runs.map((r) => new Date(r).getUTCHours());

describe("tend cron list computes a schedule without timezone in its scheduling process's zone", () => {
  const suite = sqliteStoreForSuite("tend-cli-cron-tz-");

  it("a process in New York registers its zone; a CLI in Tokyo lists its next runs at 03:00 New York time", async (t) => {
    const child = spawn(process.execPath, [SCHEDULER], {
      env: {
        ...process.env,
        TZ: "America/New_York",
        TEND_DATABASE_URL: suite.url,
        TEND_LOG_LEVEL: "warn",
        TEND_LOG_PRETTY: "0",
      },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const exited = once(child, "exit");
    t.after(async () => {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
    });
    // The schedule is registered by the process's cron task, once it runs.
    await waitFor(async () => (await suite.store.jobs.listCron()).some((e) => e.name === "nightly-local"), {
      timeoutMs: 30_000,
      message: "the scheduling process to register its schedule",
    });

    const listed = await tendIn("Asia/Tokyo", "cron", "list", "--json", "-n", "3", "-d", suite.url);
    const [entry] = JSON.parse(listed.stdout) as Array<{
      name: string;
      timezone: string | null;
      nextRuns: string[];
      nextRunsTimezone: string | null;
      timezoneRecorded: boolean;
    }>;
    assert.equal(entry?.name, "nightly-local");
    // 03:00 in New York is 07:00 (EDT) or 08:00 (EST) UTC; read in Tokyo it would be 18:00 UTC.
    assert.equal(entry.nextRuns.length, 3);
    for (const hour of utcHours(entry.nextRuns)) assert.ok(hour === 7 || hour === 8, entry.nextRuns.join());
    assert.equal(entry.timezone, "America/New_York");
    assert.equal(entry.nextRunsTimezone, "America/New_York");
    assert.equal(entry.timezoneRecorded, true);

    const human = await tendIn("Asia/Tokyo", "cron", "list", "-d", suite.url);
    assert.match(human.stdout, /^nightly-local\s+nightly\.purge\s+0 3 \* \* \*\s+America\/New_York\s+skip/m);
    assert.doesNotMatch(human.stdout, /no time zone recorded/);
  });

  it("an entry registered without a zone (an older tend) is listed as such, its next runs labelled with the CLI's zone", async () => {
    await suite.store.jobs.registerCron([
      { name: "legacy", kind: "old.kind", expression: "0 4 * * *", timezone: null, overlap: "skip" },
    ]);
    const listed = await tendIn("Asia/Tokyo", "cron", "list", "--json", "-n", "2", "-d", suite.url);
    const entry = (
      JSON.parse(listed.stdout) as Array<{
        name: string;
        nextRuns: string[];
        nextRunsTimezone: string | null;
        timezoneRecorded: boolean;
      }>
    ).find((e) => e.name === "legacy");
    assert.equal(entry?.timezoneRecorded, false);
    assert.equal(entry.nextRunsTimezone, "Asia/Tokyo");
    // 04:00 in Tokyo is 19:00 UTC.
    assert.deepEqual(utcHours(entry.nextRuns), [19, 19]);

    const human = await tendIn("Asia/Tokyo", "cron", "list", "-d", suite.url);
    assert.match(human.stdout, /^legacy\s+old\.kind\s+0 4 \* \* \*\s+\(not recorded\)\*/m);
    assert.match(human.stdout, /^\* no time zone recorded: .*computed in this shell's zone, Asia\/Tokyo/m);
  });
});
