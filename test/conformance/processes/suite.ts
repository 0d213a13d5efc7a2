import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import { describeProcess } from "../../../src/jobs/presence.ts";
import { type Backend, createBackend } from "../../support/backends.ts";
import { waitFor } from "../../support/wait.ts";

const FIXTURE = join(import.meta.dirname, "fixtures", "app.ts");
const TEND = join(import.meta.dirname, "..", "..", "..", "bin", "tend.js");
const run = promisify(execFile);

/** Starts the fixture app as a real child process and resolves once it printed "ready". */
async function startApp(url: string, presenceMs: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [FIXTURE], {
    env: { ...process.env, DATABASE_URL: url, PRESENCE_MS: String(presenceMs), TEND_LOG_LEVEL: "warn" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  child.stdout!.setEncoding("utf8");
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on("data", (chunk: string) => {
      out += chunk;
      if (out.includes("ready")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`the app exited (${code}) before ready`)));
  });
  return child;
}

/**
 * The process registry on one driver: every app process registers with a heartbeat, a killed
 * process's row lapses (alive false) and a cleanly stopped one removes its row.
 */
export function describeProcessRegistry(driver: "sqlite" | "postgres"): void {
  describe(`the process registry on ${driver}`, () => {
    let backend: Backend | null;
    const children: ChildProcess[] = [];

    before(async () => {
      backend = await createBackend(driver);
    });
    after(async () => {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
      await backend?.cleanup();
    });

    it("heartbeat inserts then refreshes one row per process, list reads it back, remove deletes it", async (t) => {
      if (backend === null) return t.skip("PostgreSQL unavailable");
      const { store, cleanup } = await backend.fresh();
      try {
        const beat = describeProcess({
          workerId: "host-a:1:abc",
          queues: new Map([
            ["default", 10],
            ["mail", 2],
          ]),
          inFlight: 4,
          env: { TEND_SUPERVISED: "1", TEND_MASTER_PID: "77", TEND_SLOT_RESTARTS: "3" },
          memory: { rss: 50_000_000, heapUsed: 20_000_000 },
        });
        await store.processes.heartbeat(beat, 60_000);
        let [row] = await store.processes.list();
        assert.ok(row !== undefined);
        assert.equal(row.id, "host-a:1:abc");
        assert.deepEqual(row.queues, ["default", "mail"]);
        assert.equal(row.concurrency, 12);
        assert.equal(row.inFlight, 4);
        assert.equal(row.masterPid, 77);
        assert.equal(row.restarts, 3, "a supervised worker's slot restarts, from its environment");
        assert.equal(row.rssBytes, 50_000_000);
        assert.equal(row.alive, true);
        assert.ok(row.expiresAt.getTime() > row.heartbeatAt.getTime());
        const firstBeat = row.heartbeatAt.getTime();

        await store.processes.heartbeat({ ...beat, inFlight: 0 }, 60_000);
        const rows = await store.processes.list();
        assert.equal(rows.length, 1, "one row per process");
        [row] = rows;
        assert.equal(row!.inFlight, 0);
        assert.ok(row!.heartbeatAt.getTime() >= firstBeat);

        await store.processes.remove("host-a:1:abc");
        assert.deepEqual(await store.processes.list(), []);
      } finally {
        await cleanup();
      }
    });

    it("a row whose lease passed reads as not alive", async (t) => {
      if (backend === null) return t.skip("PostgreSQL unavailable");
      const { store, cleanup } = await backend.fresh();
      try {
        const beat = describeProcess({ workerId: "w-lapsing", queues: new Map(), inFlight: 0, env: {} });
        await store.processes.heartbeat(beat, 1);
        const rows = await waitFor(
          async () => {
            const all = await store.processes.list();
            return all.length === 1 && !all[0]!.alive ? all : null;
          },
          { timeoutMs: 5_000, message: "the row's lease to pass" },
        );
        assert.equal(rows[0]!.masterPid, null);
        assert.equal(rows[0]!.restarts, null, "not supervised: no restarts");
      } finally {
        await cleanup();
      }
    });

    it("an app process registers itself, its SIGKILLed row lapses, and a clean stop removes its row", async (t) => {
      if (backend === null) return t.skip("PostgreSQL unavailable");
      const store = await backend.open();
      const presenceMs = 200;
      const killed = await startApp(backend.url, presenceMs);
      children.push(killed);
      const stopped = await startApp(backend.url, presenceMs);
      children.push(stopped);
      const mine = async (pid: number) => (await store.processes.list()).find((p) => p.pid === pid);

      const row = await waitFor(async () => (await mine(killed.pid!)) ?? null, {
        timeoutMs: 10_000,
        message: "the app's row",
      });
      assert.equal(row.alive, true);
      assert.deepEqual(row.queues, ["reports"]);
      assert.equal(row.concurrency, 3);
      assert.ok(row.rssBytes > 0);
      await waitFor(async () => (await mine(stopped.pid!))?.alive === true, {
        timeoutMs: 10_000,
        message: "the second app's row",
      });

      // `tend status --database` shows both, in JSON and for people.
      const json = JSON.parse(
        (await run(process.execPath, [TEND, "status", "--database", backend.url, "--json"])).stdout,
      ) as {
        processes: Array<{ pid: number; alive: boolean }>;
      };
      for (const child of [killed, stopped])
        assert.ok(
          json.processes.some((p) => p.pid === child.pid && p.alive),
          `pid ${child.pid} in tend status`,
        );
      const text = (await run(process.execPath, [TEND, "status", "--database", backend.url])).stdout;
      assert.match(text, /processes: 2 alive/);
      assert.match(text, new RegExp(`\\b${killed.pid}\\b`));

      killed.kill("SIGKILL");
      await once(killed, "exit");
      // Three missed beats (600 ms) and the row reads as gone, not removed.
      const lapsed = await waitFor(
        async () => {
          const r = await mine(killed.pid!);
          return r !== undefined && !r.alive ? r : null;
        },
        { timeoutMs: 10_000, message: "the killed app's row to lapse" },
      );
      assert.equal(lapsed.id, row.id);

      stopped.kill("SIGTERM");
      const [code] = (await once(stopped, "exit")) as [number | null];
      assert.equal(code, 0);
      assert.equal(await mine(stopped.pid!), undefined, "a clean stop removes the row");
    });
  });
}
