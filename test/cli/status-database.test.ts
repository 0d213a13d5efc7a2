import assert from "node:assert/strict";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { statusDatabase } from "../../src/cli/commands/status.ts";
import { DEFAULT_DATABASE_URL } from "../../src/store/index.ts";
import { sqliteStoreForSuite, tend, tendWithEnv } from "./helpers.ts";

describe("tend status and TEND_DATABASE_URL (real processes running bin/tend.js)", () => {
  const suite = sqliteStoreForSuite("tend-cli-status-env-");
  before(async () => {
    await suite.store.processes.heartbeat(
      {
        id: "host:1.x:w1",
        host: "host",
        pid: 4242,
        program: "/srv/app/main.ts",
        version: "0.1.0",
        masterPid: null,
        restarts: null,
        queues: ["default"],
        concurrency: 4,
        inFlight: 1,
        rssBytes: 1_048_576,
        heapUsedBytes: 524_288,
      },
      60_000,
    );
  });

  it("-d alone reads the database of TEND_DATABASE_URL", async () => {
    const r = await tendWithEnv({ TEND_DATABASE_URL: suite.url }, "status", "-d", "--json");
    assert.equal(r.code, 0, r.stderr);
    const shown = JSON.parse(r.stdout) as { processes: Array<{ id: string }> };
    assert.deepEqual(
      shown.processes.map((p) => p.id),
      ["host:1.x:w1"],
    );
  });

  it("without -d it reads the status file even when TEND_DATABASE_URL is set, and its help says so", async () => {
    const missing = join(suite.dir, "none.json");
    const r = await tendWithEnv({ TEND_DATABASE_URL: suite.url }, "status", "--status-file", missing);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /TEND_E_SUPERVISE_STATUS_UNREADABLE/);
    const help = (await tend("status", "--help")).stdout.replace(/\s+/g, " ");
    assert.match(help, /-d alone: env TEND_DATABASE_URL/);
    assert.match(help, /without -d, the status file is read even when TEND_DATABASE_URL is set/);
  });

  it("statusDatabase: -d <url>, -d alone (the variable, else the default), or the status file", () => {
    const env = { TEND_DATABASE_URL: "postgres://db/app" };
    assert.equal(statusDatabase("sqlite:x.db", env), "sqlite:x.db");
    assert.equal(statusDatabase(true, env), "postgres://db/app");
    assert.equal(statusDatabase(true, {}), DEFAULT_DATABASE_URL);
    assert.equal(statusDatabase(undefined, env), null);
  });
});
