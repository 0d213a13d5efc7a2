import assert from "node:assert/strict";
import { type ChildProcess, fork } from "node:child_process";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { type NewJob, openStore } from "../../src/store/index.ts";
import { rawConnection } from "../../src/store/raw.ts";
import { makeTempDir } from "../support/tmp.ts";
import { waitFor } from "../support/wait.ts";

const CHILD = fileURLToPath(new URL("./sqlite-child.ts", import.meta.url));
const children = new Set<ChildProcess>();
const temps: Array<() => Promise<void>> = [];

after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  await Promise.all(temps.map((cleanup) => cleanup()));
});

async function tempUrl(): Promise<string> {
  const tmp = await makeTempDir("tend-sqlite-mp-");
  temps.push(tmp.cleanup);
  return `sqlite:${join(tmp.dir, "nested", "tend.db")}`;
}

interface Running {
  ready: Promise<void>;
  go(): void;
  outcome: Promise<unknown>;
}

/** Forks one child; `ready` resolves when it is set up, `go()` starts its work, `outcome` is its result. */
function spawnChild(args: string[]): Running {
  const child = fork(CHILD, args, { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  children.add(child);
  let onReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    onReady = resolve;
  });
  const outcome = new Promise<unknown>((resolve, reject) => {
    child.on("message", (m: { ready?: boolean; done?: boolean; result?: unknown; error?: string }) => {
      if (m.ready) onReady();
      if (m.done) {
        if (m.error !== undefined) reject(new Error(`child ${args.join(" ")} failed: ${m.error}`));
        else resolve(m.result);
      }
    });
    child.on("exit", (code, signal) => {
      children.delete(child);
      if (code !== 0) reject(new Error(`child ${args.join(" ")} exited with ${code ?? signal}`));
    });
  });
  outcome.catch(() => {});
  return { ready, go: () => child.send("go"), outcome };
}

function job(queue: string, i: number): NewJob {
  return {
    kind: "mp.kind",
    queue,
    payload: JSON.stringify({ i }),
    priority: 0,
    runAt: new Date(Date.now() - 1),
    maxAttempts: 3,
    uniqueKey: null,
    batchId: null,
    batchIndex: null,
  };
}

describe("SQLite with several processes on one file", () => {
  it("migrates a new file exactly once when three processes start together", async () => {
    const url = await tempUrl();
    const runs = [0, 1, 2].map(() => spawnChild(["migrate", url]));
    await Promise.all(runs.map((r) => r.ready));
    for (const r of runs) r.go();
    const applied = (await Promise.all(runs.map((r) => r.outcome))) as string[][];
    const all = applied.flat();
    assert.ok(all.length > 0, "someone applied the migrations");
    assert.equal(new Set(all).size, all.length, `each migration applied once: ${JSON.stringify(applied)}`);
    assert.equal(
      applied.filter((a) => a.length > 0).length,
      1,
      "one process applied them all; the others found nothing to do",
    );
    const store = await openStore(url, { migrate: false });
    try {
      assert.deepEqual(await store.migrate(), []);
      const raw = rawConnection(store);
      assert.equal(raw.driver, "sqlite");
      if (raw.driver !== "sqlite") return;
      const rows = raw.db.prepare(`SELECT count(*) AS n FROM ${raw.prefix}migrations`).get() as { n: number };
      assert.equal(rows.n, all.length);
      assert.deepEqual(await store.jobs.list({}), []);
    } finally {
      await store.close();
    }
  });

  it("never gives the same attempt to two processes claiming in a loop", async () => {
    const url = await tempUrl();
    const store = await openStore(url);
    const total = 1500;
    try {
      await store.jobs.insert(Array.from({ length: total }, (_, i) => job("mp", i)));
      const runs = ["a", "b"].map((w) => spawnChild(["claim", url, w]));
      await Promise.all(runs.map((r) => r.ready));
      for (const r of runs) r.go();
      const [a, b] = (await Promise.all(runs.map((r) => r.outcome))) as string[][];
      assert.ok(a && b);
      const all = [...a, ...b];
      assert.equal(all.length, total, `every job claimed once (a: ${a.length}, b: ${b.length})`);
      assert.equal(new Set(all).size, total, "no attempt was claimed twice");
      assert.ok(
        all.every((x) => x.endsWith(":1")),
        "each job ran exactly one attempt",
      );
      const stats = await store.jobs.stats();
      const mp = stats.find((s) => s.queue === "mp");
      assert.equal(mp?.available, 0);
      assert.equal(mp?.running, 0);
      assert.ok(Math.abs((mp?.completedPerSec ?? 0) - total / 60) < 1e-6);
    } finally {
      await store.close();
    }
  });

  it("loses nothing when a worker process is SIGKILLed mid-stream: the file is intact and its jobs are rescued", async () => {
    const url = await tempUrl();
    const store = await openStore(url);
    const total = 3000;
    try {
      await store.jobs.insert(Array.from({ length: total }, (_, i) => job("mp", i)));
      const run = spawnChild(["work", url, "doomed"]);
      await run.ready;
      run.go();
      await waitFor(
        async () =>
          ((await store.jobs.stats()).find((s) => s.queue === "mp")?.completedPerSec ?? 0) * 60 >= 100,
        {
          timeoutMs: 30_000,
          message: "the child to complete 100 jobs",
        },
      );
      const exited = run.outcome.catch((err: unknown) => err);
      for (const c of children) c.kill("SIGKILL");
      assert.match(String(await exited), /exited with SIGKILL/);

      const raw = rawConnection(store);
      if (raw.driver !== "sqlite") throw new Error("expected SQLite");
      assert.equal(Object.values(raw.db.prepare("PRAGMA integrity_check").get() ?? {})[0], "ok");
      // Its in-flight jobs come back once their 500 ms leases lapse.
      await waitFor(
        async () => {
          await store.jobs.rescueExpired();
          return (await store.jobs.stats()).find((s) => s.queue === "mp")?.running === 0;
        },
        { message: "every running job of the killed worker to be rescued" },
      );
      const counts = raw.db
        .prepare("SELECT state, count(*) AS n FROM tend_jobs GROUP BY state")
        .all()
        .map((r) => [String(r["state"]), Number(r["n"])] as const);
      const by = new Map(counts);
      assert.equal(
        (by.get("completed") ?? 0) + (by.get("available") ?? 0) + (by.get("retryable") ?? 0),
        total,
        `every job is completed or will run again: ${JSON.stringify(counts)}`,
      );
      const completedRows = raw.db
        .prepare("SELECT count(*) AS n FROM tend_jobs WHERE state = 'completed' AND result = 'true'")
        .get() as { n: number };
      assert.equal(
        completedRows.n,
        by.get("completed"),
        "every acknowledged completion was durable with its result",
      );
    } finally {
      await store.close();
    }
  });

  it("wakes a listener when another process inserts (data_version poll)", async () => {
    const url = await tempUrl();
    const store = await openStore(`${url}?poll=10ms`);
    try {
      const heard: string[] = [];
      const stop = await store.notifier.listen("jobs", (p) => heard.push(p));
      const run = spawnChild(["insert", url, "from-child"]);
      await run.ready;
      run.go();
      const id = (await run.outcome) as string;
      await waitFor(() => heard.includes("*"), { message: "a '*' wake-up after the child's commit" });
      assert.equal((await store.jobs.get(id))?.queue, "from-child");
      await stop();
    } finally {
      await store.close();
    }
  });
});
