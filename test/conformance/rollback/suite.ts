import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import type { Jobs } from "../../../src/jobs/index.ts";
import type { Store } from "../../../src/store/index.ts";
import { type Backend, createBackend } from "../../support/backends.ts";
import { waitFor } from "../../support/wait.ts";
import { makeJobs, uniqueQueue } from "../jobs/helpers.ts";

const run = promisify(execFile);
const root = join(import.meta.dirname, "..", "..", "..");
const fixture = join(root, "test", "store", "fixtures", "version-app.ts");
const tend = join(root, "bin", "tend.js");

interface Service {
  child: ChildProcess;
  out: string[];
  exit: Promise<number | null>;
}

function start(url: string, version: string, queue: string): Service {
  const child = spawn(process.execPath, [fixture], {
    env: {
      ...process.env,
      TEND_DATABASE_URL: url,
      VERSION: version,
      QUEUE: queue,
      TEND_LOG_PRETTY: "0",
      TEND_LOG_LEVEL: "warn",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const out: string[] = [];
  const onData = (chunk: string) => out.push(...chunk.split("\n").filter((l) => l !== ""));
  child.stdout!.setEncoding("utf8").on("data", onData);
  child.stderr!.setEncoding("utf8").on("data", onData);
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, out, exit };
}

async function migrateStatus(
  url: string,
): Promise<Array<{ state: string; component: string; version: number }>> {
  const { stdout } = await run(process.execPath, [tend, "migrate", "--status", "--json", "--database", url], {
    cwd: root,
  });
  return (JSON.parse(stdout) as { migrations: Array<{ state: string; component: string; version: number }> })
    .migrations;
}

/**
 * Rolling back: version N+1 migrates (an additive migration declaring it works with N), is
 * stopped, and version N starts on the same database, logs the migration it does not know, and
 * keeps processing jobs; a later migration that declares it needs newer code makes N refuse with
 * TEND_E_SCHEMA_TOO_NEW naming it. `tend migrate --status` lists applied, pending and unknown.
 */
export function describeRollback(driver: "sqlite" | "postgres"): void {
  describe(`rollback to the previous version (${driver})`, () => {
    let backend: Backend | null;
    let store: Store;
    let jobs: Jobs;
    const services: Service[] = [];
    before(async () => {
      backend = await createBackend(driver);
      if (backend === null) return;
      store = await backend.open();
      jobs = makeJobs(store);
    });
    after(async () => {
      for (const s of services)
        if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill("SIGKILL");
      await Promise.all(services.map((s) => s.exit));
      await backend?.cleanup();
    });

    async function flows(service: Service, queue: string, n: number): Promise<void> {
      const ids: string[] = [];
      for (let i = 0; i < n; i++) ids.push((await jobs.enqueue("work", { i }, { queue })).id);
      await waitFor(
        async () => {
          for (const id of ids) if ((await jobs.get(id))?.state !== "completed") return false;
          return true;
        },
        { timeoutMs: 20_000, message: `${n} jobs completed` },
      );
      // Each ran in that service, not in another process.
      for (const id of ids) assert.ok(service.out.includes(`done ${id}`), `job ${id} ran in the service`);
    }

    async function stop(service: Service): Promise<void> {
      service.child.kill("SIGTERM");
      assert.equal(await service.exit, 0, service.out.join("\n"));
    }

    it("N+1 migrates, N starts on its schema and jobs keep flowing; a breaking migration makes N refuse", async (t) => {
      if (backend === null) return t.skip("PostgreSQL unavailable (TEND_SKIP_POSTGRES=1)");
      const queue = uniqueQueue();
      const url = backend.url;

      const next = start(url, "N+1", queue);
      services.push(next);
      await waitFor(() => next.out.includes("ready"), { timeoutMs: 20_000, message: "N+1 ready" });
      await flows(next, queue, 5);
      const afterNext = await migrateStatus(url);
      const unknown = afterNext.filter((m) => m.state === "unknown");
      assert.equal(unknown.length, 1, JSON.stringify(afterNext));
      assert.equal(unknown[0]!.component, "jobs");
      assert.ok(afterNext.some((m) => m.state === "applied"));
      assert.ok(!afterNext.some((m) => m.state === "pending"));
      await stop(next);

      // Jobs enqueued while no version runs are picked up by the older one.
      const waitingId = (await jobs.enqueue("work", { while: "down" }, { queue })).id;
      const older = start(url, "N", queue);
      services.push(older);
      await waitFor(() => older.out.includes("ready"), { timeoutMs: 20_000, message: "N ready" });
      await waitFor(() => older.out.includes(`done ${waitingId}`), {
        timeoutMs: 20_000,
        message: "N ran the waiting job",
      });
      await flows(older, queue, 5);
      const warning = older.out.find((l) => l.includes("newer version of tend"));
      assert.ok(warning, `N logged the migrations it does not know:\n${older.out.join("\n")}`);
      assert.match(warning, new RegExp(`jobs:${unknown[0]!.version}`));
      await stop(older);

      const breaking = start(url, "N+2", queue);
      services.push(breaking);
      await waitFor(() => breaking.out.includes("ready"), { timeoutMs: 20_000, message: "N+2 ready" });
      await stop(breaking);

      const refused = start(url, "N", queue);
      services.push(refused);
      const code = await refused.exit;
      assert.notEqual(code, 0);
      const text = refused.out.join("\n");
      assert.match(text, /TEND_E_SCHEMA_TOO_NEW/);
      assert.match(
        text,
        new RegExp(`jobs ${unknown[0]!.version + 1} \\(jobs: rollback test's breaking change`),
      );
      assert.doesNotMatch(text, /^ready$/m);

      // The CLI of version N refuses to migrate too, and --status still answers.
      await assert.rejects(
        run(process.execPath, [tend, "migrate", "--database", url], { cwd: root }),
        (err: { stderr: string }) => /TEND_E_SCHEMA_TOO_NEW/.test(err.stderr),
      );
      const last = await migrateStatus(url);
      assert.equal(last.filter((m) => m.state === "unknown").length, 2);
    });
  });
}
