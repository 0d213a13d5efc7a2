import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { openStore } from "../../src/store/index.ts";
import { claimOne, insertOne } from "../conformance/job-store/helpers.ts";
import { makeTempDir } from "../support/tmp.ts";

const TEND = join(import.meta.dirname, "..", "..", "bin", "tend.js");
const exec = promisify(execFile);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `tend` in a real process; the store logs at debug level, so that any stray log line shows. */
async function tend(cwd: string, ...args: string[]): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env, TEND_LOG_LEVEL: "debug", TEND_LOG_PRETTY: "0" };
  delete env["TEND_DATABASE_URL"];
  try {
    const { stdout, stderr } = await exec(process.execPath, [TEND, ...args], { cwd, env, timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : -1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

/** Asserts a failed run that printed one line with `code` (and no stack) on stderr and nothing on stdout. */
function failedWith(run: Run, code: string, ...patterns: RegExp[]): void {
  assert.equal(run.code, 1, run.stderr);
  assert.equal(run.stdout, "");
  const lines = run.stderr.split("\n").filter((l) => l !== "" && !l.startsWith("{"));
  assert.match(lines[0] ?? "", new RegExp(`^tend: .*\\[${code}\\]$`));
  assert.doesNotMatch(run.stderr, /^\s+at /m, "no stack without --verbose");
  assert.equal(lines.length, 2, `one line and the hint to --verbose:\n${run.stderr}`);
  for (const p of patterns) assert.match(lines[0]!, p);
}

describe("the CLI and the store (real processes running bin/tend.js)", () => {
  let tmp: { dir: string; cleanup(): Promise<void> };
  before(async () => {
    tmp = await makeTempDir("tend-cli-store-");
  });
  after(() => tmp.cleanup());

  it("read-only commands on a wrong SQLite path fail with the path, and create nothing", async () => {
    const url = `sqlite:${join(tmp.dir, "typo", "tend.db")}`;
    for (const args of [
      ["jobs", "list"],
      ["jobs", "stats", "--json"],
      ["jobs", "show", "1"],
      ["jobs", "retry", "1"],
      ["inconsistencies"],
    ]) {
      failedWith(
        await tend(tmp.dir, ...args, "-d", url),
        "TEND_E_DATABASE_NOT_FOUND",
        /typo\/tend\.db/,
        /tend migrate/,
      );
    }
    // A relative path is resolved against the current folder, which the message names.
    failedWith(
      await tend(tmp.dir, "jobs", "list", "-d", "sqlite:./var/nope.db"),
      "TEND_E_DATABASE_NOT_FOUND",
      /var\/nope\.db/,
    );
    assert.equal(existsSync(join(tmp.dir, "typo")), false);
    assert.equal(existsSync(join(tmp.dir, "var")), false);
  });

  it("refuses an unmigrated database for reads and says to run `tend migrate`; migrate logs on stderr only", async () => {
    const path = join(tmp.dir, "fresh.db");
    new DatabaseSync(path).close();
    failedWith(
      await tend(tmp.dir, "jobs", "list", "-d", `sqlite:${path}`),
      "TEND_E_DATABASE_NOT_MIGRATED",
      /tend migrate/,
    );

    const migrated = await tend(tmp.dir, "migrate", "-d", `sqlite:${path}`);
    assert.equal(migrated.code, 0, migrated.stderr);
    assert.doesNotMatch(migrated.stdout, /^\{/m, "no log line on stdout");
    assert.match(migrated.stdout, /migration\(s\) applied/);
    assert.match(migrated.stderr, /"msg":"applied SQLite migrations"/);

    const listed = await tend(tmp.dir, "jobs", "list", "--json", "-d", `sqlite:${path}`);
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(JSON.parse(listed.stdout), []);
  });

  it("`jobs show` prints every error with its stack; `--json` output parses", async () => {
    const path = join(tmp.dir, "jobs.db");
    const store = await openStore(`sqlite:${path}`);
    const id = await insertOne(store, { maxAttempts: 1 });
    const lease = await claimOne(store);
    await store.jobs.fail([
      {
        ...lease,
        error: {
          attempt: 1,
          at: new Date().toISOString(),
          message: "mail server said no",
          stack: "Error: mail server said no\n    at send (mailer.ts:10:5)\n    at handler (jobs.ts:3:9)",
        },
        retryAt: null,
      },
    ]);
    await store.close();
    const shown = await tend(tmp.dir, "jobs", "show", id, "-d", `sqlite:${path}`);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(
      shown.stdout,
      /error \(attempt 1, .*\): mail server said no\n {4}at send \(mailer\.ts:10:5\)\n {4}at handler/,
    );
    for (const args of [
      ["jobs", "show", id, "--json"],
      ["jobs", "list", "--json"],
      ["jobs", "stats", "--json"],
    ]) {
      const run = await tend(tmp.dir, ...args, "-d", `sqlite:${path}`);
      assert.equal(run.code, 0, run.stderr);
      JSON.parse(run.stdout);
    }
  });

  it("`queues pause|resume|list` pause a queue in the store, list it, resume it; a bad name is TEND_E_INVALID_QUEUE", async () => {
    const path = join(tmp.dir, "queues.db");
    const url = `sqlite:${path}`;
    const store = await openStore(url);
    await insertOne(store, { queue: "mail" });
    await store.close();
    const paused = await tend(tmp.dir, "queues", "pause", "mail", "--json", "-d", url);
    assert.equal(paused.code, 0, paused.stderr);
    assert.equal(JSON.parse(paused.stdout).paused, true);
    const listed = await tend(tmp.dir, "queues", "list", "-d", url);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /mail\s+paused\s+1\s/);
    const check = await openStore(url);
    try {
      assert.deepEqual(await check.jobs.claim({ queue: "mail", limit: 1, workerId: "w", leaseMs: 1000 }), []);
    } finally {
      await check.close();
    }
    const resumed = await tend(tmp.dir, "queues", "resume", "mail", "-d", url);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stdout, /queue mail is running/);
    const json = await tend(tmp.dir, "queues", "list", "--json", "-d", url);
    assert.equal(JSON.parse(json.stdout)[0].paused, false);
    failedWith(
      await tend(tmp.dir, "queues", "pause", "bad name", "-d", url),
      "TEND_E_INVALID_QUEUE",
      /bad name/,
    );
  });

  it("a PostgreSQL server that refuses connections: one line with the code; --verbose shows the cause", async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve));
    const url = `postgres://app:hunter2@127.0.0.1:${port}/app`;
    const run = await tend(tmp.dir, "jobs", "stats", "-d", url);
    failedWith(run, "TEND_E_STORE_UNREACHABLE", /refused/, /app:\*\*\*@127\.0\.0\.1/);
    assert.doesNotMatch(run.stderr, /hunter2/);
    const verbose = await tend(tmp.dir, "jobs", "stats", "-d", url, "--verbose");
    assert.equal(verbose.code, 1);
    assert.match(verbose.stderr, /caused by: Error: connect ECONNREFUSED/);
    assert.match(verbose.stderr, /^\s+at /m);
  });

  it("a file that is not a database, and a status file that is missing", async () => {
    const run = await tend(tmp.dir, "jobs", "list", "-d", `sqlite:${TEND}`);
    failedWith(run, "TEND_E_DATABASE_UNREADABLE", /tend\.js/, /not a database/);
    const status = await tend(tmp.dir, "status", "--status-file", join(tmp.dir, "none.json"));
    assert.notEqual(status.code, 0);
    assert.match(status.stderr, /TEND_E_SUPERVISE_STATUS_UNREADABLE/);
    assert.doesNotMatch(status.stderr, /^\s+at /m);
  });
});
