import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { processExists as alive, startEmbeddedPostgres } from "./embedded-postgres/start.ts";
import { makeTempDir } from "./tmp.ts";
import { waitFor } from "./wait.ts";

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/** A port where nothing listens (below 1024, and no PostgreSQL runs there). */
const NOTHING_THERE = "postgres://postgres@127.0.0.1:1/test";

describe("embedded PostgreSQL for tests", () => {
  it("serves real queries and LISTEN/NOTIFY, and stop() leaves no process and no folder", async () => {
    const server = await startEmbeddedPostgres();
    try {
      assert.ok(existsSync(server.dir), "its folder exists while it runs");
      assert.ok(alive(server.pid), "its postmaster runs");
      assert.match(server.url, /^postgres:\/\/postgres:[^@]+@127\.0\.0\.1:\d+\/test$/);
      const client = new pg.Client({ connectionString: server.url });
      await client.connect();
      try {
        const { rows } = await client.query<{ server_version: string }>("SHOW server_version");
        assert.equal(rows[0]!.server_version, server.version);
        await client.query("LISTEN tend_probe");
        const notified = once(client, "notification");
        await client.query("SELECT pg_notify('tend_probe', 'hello')");
        const [message] = (await notified) as [pg.Notification];
        assert.equal(message.payload, "hello");
      } finally {
        await client.end();
      }
    } finally {
      await server.stop();
    }
    assert.equal(alive(server.pid), false, "no postmaster is left");
    assert.equal(existsSync(server.dir), false, "no folder is left");
    await server.stop(); // twice is harmless
  });

  it("npm test's global setup starts one when nothing answers, hands it to test files, and stops it after a failing run", async () => {
    const tmp = await makeTempDir("tend-global-setup-");
    try {
      const out = join(tmp.dir, "seen.json");
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        TEND_TEST_POSTGRES_PROBE_URL: NOTHING_THERE,
        TEND_FIXTURE_OUT: out,
      };
      delete env["TEND_TEST_POSTGRES_URL"];
      delete env["TEND_TEST_EMBEDDED_POSTGRES"];
      delete env["NODE_TEST_CONTEXT"]; // set in test files' processes; it would stop this run's runner
      const run = spawn(
        process.execPath,
        [
          "--test",
          `--test-global-setup=${here("./global-setup.ts")}`,
          "--test-reporter=spec",
          here("./fixtures/global-setup-run.ts"),
        ],
        { env, stdio: ["ignore", "pipe", "pipe"] },
      );
      let output = "";
      run.stdout.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
      run.stderr.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
      const [code] = (await once(run, "close")) as [number | null];
      assert.equal(code, 1, `the deliberately failing test fails the run:\n${output}`);
      assert.match(
        output,
        /tend tests: PostgreSQL \d+\.\d+, embedded \(nothing usable at postgres:\/\/postgres@127\.0\.0\.1:1\/test: .*\), started in [\d.]+ s at postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/test/,
      );
      assert.match(output, /✔ reads the server it was given/);
      const seen = JSON.parse(await readFile(out, "utf8")) as {
        url: string;
        sum: string;
        dataDirectory: string;
        postmaster: number;
      };
      assert.equal(seen.sum, "3");
      assert.doesNotMatch(seen.url, /:1\/test$/);
      assert.equal(alive(seen.postmaster), false, "the run stopped its server");
      assert.equal(existsSync(seen.dataDirectory), false, "the run removed the server's folder");
    } finally {
      await tmp.cleanup();
    }
  });

  it("stops the server and removes its folder when the process that started it is killed", async () => {
    const parent = spawn(process.execPath, [here("./fixtures/embedded-parent.ts")], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const [line] = (await once(createInterface({ input: parent.stdout }), "line")) as [string];
    const server = JSON.parse(line) as { pid: number; dir: string };
    assert.ok(alive(server.pid));
    parent.kill("SIGKILL");
    await once(parent, "close");
    await waitFor(() => !alive(server.pid) && !existsSync(server.dir), {
      timeoutMs: 30_000,
      message: "the orphaned server to stop and its folder to go",
    });
  });
});
