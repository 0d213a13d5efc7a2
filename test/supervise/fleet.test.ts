import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { after, describe, it } from "node:test";
import type { SupervisorStatus } from "../../src/supervise/index.ts";
import { divideWorkers, fleetTotals } from "../../src/supervise/fleet-share.ts";
import { makeJobs } from "../conformance/jobs/helpers.ts";
import { type Backend, createBackend } from "../support/backends.ts";
import { makeTempDir } from "../support/tmp.ts";
import { waitFor } from "../support/wait.ts";

const run = promisify(execFile);
const root = join(import.meta.dirname, "..", "..");
const TEND = join(root, "bin", "tend.js");
const APP = join(import.meta.dirname, "fixtures", "app.ts");

describe("dividing a fleet's workers (pure)", () => {
  const m = (id: string, min: number, max: number, desired = 0) => ({ id, min, max, desired });
  it("gives each master its min, then one in turn up to each max, the same on every master", () => {
    assert.deepEqual(
      [...divideWorkers(4, [m("b", 1, 4), m("a", 1, 4)])],
      [
        ["a", 2],
        ["b", 2],
      ],
    );
    assert.deepEqual(
      [...divideWorkers(5, [m("a", 1, 4), m("b", 1, 4)])],
      [
        ["a", 3],
        ["b", 2],
      ],
    );
    assert.deepEqual(
      [...divideWorkers(9, [m("a", 1, 2), m("b", 0, 4)])],
      [
        ["a", 2],
        ["b", 4],
      ],
    );
    assert.deepEqual(
      [...divideWorkers(0, [m("a", 1, 2), m("b", 1, 4)])],
      [
        ["a", 1],
        ["b", 1],
      ],
    );
    assert.deepEqual(fleetTotals([m("a", 1, 2, 2), m("b", 0, 4, 3)]), { min: 1, max: 6, current: 5 });
  });
});

interface Master {
  child: ChildProcess;
  exit: Promise<number | null>;
  statusFile: string;
}

async function status(m: Master): Promise<SupervisorStatus | null> {
  try {
    const s = JSON.parse(await readFile(m.statusFile, "utf8")) as SupervisorStatus;
    return s.masterPid === m.child.pid ? s : null;
  } catch {
    return null;
  }
}

/**
 * Two `tend supervise` masters on one PostgreSQL, standing in for two machines: they register in
 * the fleet table, divide the worker count the shared backlog asks for (each alone would go to
 * its max), `tend status --database` shows both with their workers, and when one dies without a
 * word the other notices within the lease and takes over its share.
 */
describe("several masters on one PostgreSQL", () => {
  let backend: Backend | null = null;
  let tmp: { dir: string; cleanup(): Promise<void> } | undefined;
  const masters: Master[] = [];
  const strays: number[] = [];
  after(async () => {
    for (const m of masters)
      if (m.child.exitCode === null && m.child.signalCode === null) m.child.kill("SIGKILL");
    await Promise.all(masters.map((m) => m.exit));
    for (const pid of strays) {
      try {
        process.kill(-pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    await backend?.cleanup();
    await tmp?.cleanup();
  });

  function startMaster(url: string, name: string): Master {
    const statusFile = join(tmp!.dir, `${name}.json`);
    const child = spawn(
      process.execPath,
      [
        TEND,
        "supervise",
        APP,
        "--min",
        "1",
        "--max",
        "4",
        "--database",
        url,
        "--status-file",
        statusFile,
        "--scale-interval",
        "200ms",
        "--master-lease",
        "2s",
        "--kill-timeout",
        "1s",
        // The master that starts first runs alone for a moment and goes to its max; the fleet
        // comes down to what the backlog asks for after this cooldown.
        "--scale-down-cooldown",
        "1s",
      ],
      {
        cwd: root,
        env: { ...process.env, FIXTURE_CONCURRENCY: "10", TEND_LOG_LEVEL: "warn", TEND_LOG_PRETTY: "0" },
        stdio: ["ignore", "inherit", "inherit"],
      },
    );
    const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    const m = { child, exit, statusFile };
    masters.push(m);
    return m;
  }

  it("divide the wanted workers, show in tend status, and take over a dead master's share within the lease", async (t) => {
    backend = await createBackend("postgres");
    if (backend === null) return t.skip("PostgreSQL unavailable (TEND_SKIP_POSTGRES=1)");
    tmp = await makeTempDir("tend-fleet-");
    const store = await backend.open();
    try {
      const jobs = makeJobs(store);
      // 40 long jobs: the policy (10 jobs a worker) asks for 4 workers in all, and 4 workers of
      // concurrency 10 run them all at once (none waits, which would ask for more).
      for (let i = 0; i < 40; i++) await jobs.enqueue("sleep", { ms: 60_000 });
      const a = startMaster(backend.url, "a");
      const b = startMaster(backend.url, "b");
      // Alone, each would run its max (4); together they split what the backlog asks for (about 5:
      // 40 running plus the recent enqueue rate over the horizon), in shares one apart at most.
      const [sa, sb] = await waitFor(
        async () => {
          const [x, y] = [await status(a), await status(b)];
          if (x === null || y === null) return null;
          const ready = (s: SupervisorStatus) => s.workers.filter((w) => w.state === "ready").length;
          const split =
            x.desired + y.desired < 8 &&
            Math.abs(x.desired - y.desired) <= 1 &&
            x.desired < 4 &&
            y.desired < 4;
          return split && ready(x) === x.desired && ready(y) === y.desired && x.fleet?.length === 2
            ? [x, y]
            : null;
        },
        { timeoutMs: 40_000, message: "the masters splitting the workers, not each at its max" },
      );
      process.stdout.write(`# fleet: split ${sa.desired} + ${sb.desired} (each alone would run 4)\n`);
      assert.equal(sa.fleet?.filter((m) => m.alive).length, 2);
      for (const w of sb.workers) strays.push(w.pid);

      const { stdout } = await run(process.execPath, [TEND, "status", "--database", backend.url, "--json"], {
        cwd: root,
      });
      const fleet = (
        JSON.parse(stdout) as {
          masters: Array<{ pid: number; alive: boolean; workers: Array<{ pid: number }> }>;
        }
      ).masters;
      assert.deepEqual(fleet.map((m) => m.pid).sort(), [a.child.pid, b.child.pid].sort());
      // Each master's workers as it last reported them (the shares may still move by one).
      for (const m of fleet) assert.ok(m.workers.length >= 1, `master ${m.pid} shows its workers`);
      assert.ok(fleet.reduce((n, m) => n + m.workers.length, 0) < 8, "not both at their max");
      const text = await run(process.execPath, [TEND, "status", "--database", backend.url], { cwd: root });
      assert.match(text.stdout, /fleet: 2 live master\(s\), \d+ worker\(s\)/);

      // Machine b dies: its master and its workers, without a word.
      const killedAt = Date.now();
      b.child.kill("SIGKILL");
      for (const w of (await status(b))?.workers ?? sb.workers) {
        strays.push(w.pid);
        try {
          process.kill(-w.pid, "SIGKILL");
        } catch {
          // a worker that b had already retired
        }
      }
      await b.exit;
      await waitFor(async () => (await status(a))?.desired === 4, {
        timeoutMs: 20_000,
        message: "master a taking over b's share",
      });
      const noticedMs = Date.now() - killedAt;
      process.stdout.write(
        `# fleet: a dead master's share taken over ${noticedMs} ms after it died (lease 2 s)\n`,
      );
      t.diagnostic(`takeover after ${noticedMs} ms (lease 2000 ms, scale interval 200 ms)`);
      const after = await status(a);
      assert.equal(after?.fleet?.filter((m) => m.alive).length, 1);
      const text2 = await run(process.execPath, [TEND, "status", "--database", backend.url], { cwd: root });
      assert.match(text2.stdout, /DEAD \(lease lapsed\)/);

      a.child.kill("SIGTERM");
      assert.equal(await a.exit, 0);
      const { stdout: gone } = await run(
        process.execPath,
        [TEND, "status", "--database", backend.url, "--json"],
        {
          cwd: root,
        },
      );
      const left = (JSON.parse(gone) as { masters: Array<{ pid: number }> }).masters.map((m) => m.pid);
      assert.ok(!left.includes(a.child.pid!), "a clean stop leaves the fleet table");
    } finally {
      await store.close();
    }
  });
});
