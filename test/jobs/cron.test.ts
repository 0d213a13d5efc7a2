import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isTendError } from "../../src/errors/tend-error.ts";
import { latestTickBetween, nextCronRuns, parseCron, ticksBetween } from "../../src/jobs/cron.ts";
import { Jobs } from "../../src/jobs/index.ts";
import { createLogger } from "../../src/log/logger.ts";

const silent = createLogger({ level: "silent", pretty: false });

/** A Jobs instance whose store is never opened: cron definitions are checked at the call. */
function jobsWithoutStore(): Jobs {
  return new Jobs(
    async () => {
      throw new Error("no store needed to define a schedule");
    },
    { log: silent },
  );
}

function invalidCron(pattern: RegExp) {
  return (err: unknown): boolean => {
    assert.ok(isTendError(err, "TEND_E_INVALID_CRON"), `a TEND_E_INVALID_CRON error, got ${String(err)}`);
    assert.match((err as Error).message, pattern);
    return true;
  };
}

describe("cron definitions are checked at the call", () => {
  it("rejects an unknown timezone with TEND_E_INVALID_CRON naming it", () => {
    const jobs = jobsWithoutStore();
    assert.throws(
      () => jobs.cron("0 3 * * *", "k", {}, { timezone: "Mars/Olympus_Mons" }),
      invalidCron(/Mars\/Olympus_Mons.*IANA/),
    );
    assert.throws(() => parseCron("0 3 * * *", "Mars/Olympus_Mons"), invalidCron(/Mars\/Olympus_Mons/));
  });

  it("rejects a timezone that is not a non-empty string", () => {
    const jobs = jobsWithoutStore();
    for (const timezone of [5, "", {}, null]) {
      assert.throws(
        () => jobs.cron("0 3 * * *", "k", {}, { timezone: timezone as never }),
        invalidCron(/timezone/),
        `timezone ${JSON.stringify(timezone)}`,
      );
    }
  });

  it("rejects an expression that never fires (no future time matches)", () => {
    const jobs = jobsWithoutStore();
    assert.throws(() => jobs.cron("0 0 30 2 *", "k"), invalidCron(/never/));
    assert.throws(() => jobs.cron("0 0 0 1 1 * 2020", "k"), invalidCron(/never/));
  });

  it("rejects expressions croner cannot run here", () => {
    const jobs = jobsWithoutStore();
    assert.throws(() => jobs.cron("@reboot", "k"), invalidCron(/@reboot/));
    assert.throws(() => jobs.cron("0 3 * * 8", "k"), invalidCron(/cron expression/));
  });

  it("rejects a bad schedule name or catchUp", () => {
    const jobs = jobsWithoutStore();
    assert.throws(() => jobs.cron("0 3 * * *", "k", {}, { name: "" }), invalidCron(/name/));
    assert.throws(() => jobs.cron("0 3 * * *", "k", {}, { name: 5 as never }), invalidCron(/name/));
    assert.throws(() => jobs.cron("0 3 * * *", "k", {}, { catchUp: "yes" as never }), invalidCron(/catchUp/));
  });

  it("rejects an overlap policy it does not know, naming the ones it does", () => {
    const jobs = jobsWithoutStore();
    assert.throws(
      () => jobs.cron("0 3 * * *", "k", {}, { overlap: "queue" as never }),
      invalidCron(/overlap.*"skip", "allow"/),
    );
    jobs.cron("0 3 * * *", "k", {}, { overlap: "allow" });
  });

  it("accepts valid timezones and expressions, and computes their next tick", () => {
    const jobs = jobsWithoutStore();
    for (const timezone of ["Europe/Berlin", "UTC", "America/New_York", "Etc/GMT+2"]) {
      jobs.cron("0 3 * * *", "k", {}, { timezone, name: `n-${timezone}` });
      const next = parseCron("0 3 * * *", timezone).nextRun();
      assert.ok(next instanceof Date && next.getTime() > Date.now());
    }
    jobs.cron("@hourly", "k", {}, { name: "hourly" });
    jobs.cron("*/5 * * * * *", "k", {}, { name: "six-fields" });
  });
});

describe("latestTickBetween", () => {
  it("is the latest tick of the span, however many ticks were missed", () => {
    const minutely = parseCron("* * * * *", "UTC");
    const last = new Date("2030-01-01T00:00:00Z");
    const now = new Date("2030-01-02T00:00:30Z");
    // A day down: 1,440 ticks missed, more than ticksBetween lists (1,000).
    assert.equal(ticksBetween(minutely, last, now).length, 1000);
    assert.equal(latestTickBetween(minutely, last, now)?.toISOString(), "2030-01-02T00:00:00.000Z");
    // A tick exactly at the end counts; none in the span is null.
    assert.equal(
      latestTickBetween(minutely, last, new Date("2030-01-01T00:05:00Z"))?.toISOString(),
      "2030-01-01T00:05:00.000Z",
    );
    assert.equal(latestTickBetween(minutely, last, new Date("2030-01-01T00:00:59Z")), null);
    const nightly = parseCron("0 3 * * *", "UTC");
    assert.equal(
      latestTickBetween(
        nightly,
        new Date("2030-01-01T03:00:00Z"),
        new Date("2030-01-05T12:00:00Z"),
      )?.toISOString(),
      "2030-01-05T03:00:00.000Z",
    );
  });
});

describe("nextCronRuns", () => {
  it("gives the next runs in the entry's time zone, and nothing for an expression it cannot read", () => {
    const from = new Date("2026-03-28T12:00:00Z");
    // Berlin moves to summer time on 29 March 2026: 03:00 is 02:00 UTC before, 01:00 UTC after.
    assert.deepEqual(
      nextCronRuns("0 3 * * *", "Europe/Berlin", 3, from).map((d) => d.toISOString()),
      ["2026-03-29T01:00:00.000Z", "2026-03-30T01:00:00.000Z", "2026-03-31T01:00:00.000Z"],
    );
    assert.deepEqual(
      nextCronRuns("0 3 * * *", "UTC", 1, from).map((d) => d.toISOString()),
      ["2026-03-29T03:00:00.000Z"],
    );
    assert.deepEqual(nextCronRuns("not cron", null, 3, from), []);
  });
});
