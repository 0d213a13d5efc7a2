import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { copyFile, readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import type { Jobs } from "../../src/jobs/index.ts";
import { makeJobs } from "../conformance/jobs/helpers.ts";
import { type Backend, createBackend } from "../support/backends.ts";
import { makeTempDir } from "../support/tmp.ts";
import { waitFor } from "../support/wait.ts";

const run = promisify(execFile);
const root = join(import.meta.dirname, "..", "..");
const fixture = join(import.meta.dirname, "fixtures", "service.ts");

/** A host without Node: an empty PATH and no other variable than those given. */
function bare(extra: Record<string, string>): Record<string, string> {
  return { PATH: "", TEND_LOG_PRETTY: "0", ...extra };
}

interface Running {
  child: ChildProcess;
  out: string[];
  exit: Promise<number | null>;
}

function launch(exe: string, args: string[], cwd: string, env: Record<string, string>): Running {
  const child = spawn(exe, args, { cwd, env: bare(env), stdio: ["ignore", "pipe", "pipe"] });
  const out: string[] = [];
  const onData = (chunk: string) => out.push(...chunk.split("\n").filter((l) => l !== ""));
  child.stdout!.setEncoding("utf8").on("data", onData);
  child.stderr!.setEncoding("utf8").on("data", onData);
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, out, exit };
}

/**
 * `tend build` makes one executable (Node, the program, tend, pg, pino) that runs from a folder
 * with no node_modules, with an empty PATH, on SQLite and on PostgreSQL, and answers `tend`
 * subcommands. Building takes tens of seconds, so one build serves every case.
 */
describe("tend build: one executable file", () => {
  let tmp: { dir: string; cleanup(): Promise<void> };
  let built: string;
  const running: Running[] = [];
  const backends: Backend[] = [];

  before(async () => {
    tmp = await makeTempDir("tend-build-");
    built = join(tmp.dir, "build", "service");
    const { stdout } = await run(
      process.execPath,
      [join(root, "bin", "tend.js"), "build", fixture, "-o", built],
      {
        cwd: root,
        maxBuffer: 16 << 20,
      },
    );
    process.stdout.write(`# ${stdout.trim()}\n`);
  });
  after(async () => {
    for (const r of running)
      if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill("SIGKILL");
    await Promise.all(running.map((r) => r.exit));
    for (const b of backends) await b.cleanup();
    await tmp?.cleanup();
  });

  /** Copies the executable into a fresh folder of its own, as onto a new host. */
  async function install(name: string): Promise<{ dir: string; exe: string }> {
    const dir = join(tmp.dir, name);
    const { mkdir } = await import("node:fs/promises");
    await mkdir(dir, { recursive: true });
    const exe = join(dir, "service");
    await copyFile(built, exe);
    const { chmod } = await import("node:fs/promises");
    await chmod(exe, 0o755);
    return { dir, exe };
  }

  async function tendCommand(exe: string, cwd: string, args: string[], env: Record<string, string> = {}) {
    return run(exe, ["tend", ...args], { cwd, env: bare(env) });
  }

  async function serves(driver: "sqlite" | "postgres", t: { skip(message: string): void }): Promise<void> {
    const { dir, exe } = await install(driver);
    let url: string;
    let jobs: Jobs;
    if (driver === "sqlite") {
      url = "sqlite:./var/app.db";
    } else {
      const backend = await createBackend("postgres");
      if (backend === null) return t.skip("PostgreSQL unavailable (TEND_SKIP_POSTGRES=1)");
      backends.push(backend);
      url = backend.url;
    }
    // The executable migrates the database itself on its first start.
    const svc = launch(exe, [], dir, { TEND_DATABASE_URL: url, OUT_FILE: join(dir, "done.txt") });
    running.push(svc);
    await waitFor(() => svc.out.includes("ready"), {
      timeoutMs: 20_000,
      message: `the ${driver} service ready`,
    });
    const { openStore } = await import("../../src/store/index.ts");
    const store = await openStore(driver === "sqlite" ? `sqlite:${join(dir, "var", "app.db")}` : url, {
      migrate: "verify",
    });
    try {
      jobs = makeJobs(store);
      const ids: string[] = [];
      for (let i = 0; i < 10; i++) ids.push((await jobs.enqueue("work", { i })).id);
      await waitFor(
        async () => {
          for (const id of ids) if ((await jobs.get(id))?.state !== "completed") return false;
          return true;
        },
        { timeoutMs: 20_000, message: "10 jobs completed by the executable" },
      );
      const done = (await readFile(join(dir, "done.txt"), "utf8")).trim().split("\n");
      assert.deepEqual([...done].sort(), [...ids].sort());
    } finally {
      await store.close();
    }

    const stats = await tendCommand(exe, dir, ["jobs", "stats", "--json", "--database", url]);
    const queues = JSON.parse(stats.stdout) as Array<{ queue: string; available: number }>;
    assert.ok(
      queues.some((q) => q.queue === "default"),
      stats.stdout,
    );
    const status = await tendCommand(exe, dir, ["migrate", "--status", "--json", "--database", url]);
    const rows = (JSON.parse(status.stdout) as { migrations: Array<{ state: string }> }).migrations;
    assert.ok(rows.length > 0 && rows.every((r) => r.state === "applied"), status.stdout);
    const migrate = await tendCommand(exe, dir, ["migrate", "--database", url]);
    assert.match(migrate.stdout, /already up to date/);

    svc.child.kill("SIGTERM");
    assert.equal(await svc.exit, 0, svc.out.join("\n"));
  }

  it("runs from a temp folder with an empty PATH on SQLite; tend jobs stats and migrate work from the same file", async (t) => {
    await serves("sqlite", t);
  });

  it("runs on PostgreSQL the same way", async (t) => {
    await serves("postgres", t);
  });

  it("`./service tend supervise` runs workers and a spare from the same file, and `./service tend status` shows them", async () => {
    const { dir, exe } = await install("supervised");
    const url = "sqlite:./var/app.db";
    const master = launch(
      exe,
      ["tend", "supervise", "--min", "2", "--database", url, "--status-file", "./status.json"],
      dir,
      {
        TEND_DATABASE_URL: url,
      },
    );
    running.push(master);
    const status = await waitFor(
      async () => {
        try {
          const { stdout } = await tendCommand(exe, dir, [
            "status",
            "--json",
            "--status-file",
            "./status.json",
          ]);
          const s = JSON.parse(stdout) as {
            running: boolean;
            workers: Array<{ state: string; pid: number }>;
          };
          return s.workers.filter((w) => w.state === "ready").length === 2 ? s : null;
        } catch {
          return null;
        }
      },
      { timeoutMs: 30_000, message: "two ready workers in tend status" },
    );
    assert.equal(status.running, true);
    const text = await tendCommand(exe, dir, ["status", "--status-file", "./status.json"]);
    for (const w of status.workers) assert.match(text.stdout, new RegExp(String(w.pid)));

    // The file keeps a booted spare of itself; a killed worker's place goes to that spare.
    type Status = { sparePid?: number | null; workers: Array<{ state: string; pid: number }> };
    const readStatus = async (): Promise<Status | null> => {
      try {
        return JSON.parse(await readFile(join(dir, "status.json"), "utf8")) as Status;
      } catch {
        return null;
      }
    };
    const sparePid = await waitFor(async () => (await readStatus())?.sparePid ?? null, {
      timeoutMs: 30_000,
      message: "a booted spare in the status file",
    });
    const victim = status.workers[0]!.pid;
    process.kill(victim, "SIGKILL");
    const replaced = await waitFor(
      async () => {
        const s = await readStatus();
        const ready = s?.workers.filter((w) => w.state === "ready").map((w) => w.pid) ?? [];
        return ready.length === 2 && !ready.includes(victim) ? ready : null;
      },
      { timeoutMs: 30_000, message: "the killed worker replaced" },
    );
    assert.ok(replaced.includes(sparePid), `the spare ${sparePid} became the worker (ready: ${replaced})`);

    master.child.kill("SIGTERM");
    assert.equal(await master.exit, 0, master.out.join("\n"));
    for (const pid of [...replaced, sparePid]) {
      assert.throws(() => process.kill(pid, 0), "no worker or spare left running");
    }
  });

  it("restart as systemd does it with jobs in flight loses nothing; SIGHUP rolls the workers onto a replaced file", async () => {
    const { dir, exe } = await install("restart");
    const url = "sqlite:./var/app.db";
    const args = ["tend", "supervise", "--min", "2", "--database", url, "--status-file", "./status.json"];
    const workersOf = async (masterPid: number, count: number) => {
      try {
        const s = JSON.parse(await readFile(join(dir, "status.json"), "utf8")) as {
          masterPid: number;
          workers: Array<{ state: string; pid: number }>;
        };
        const ready = s.workers.filter((w) => w.state === "ready").map((w) => w.pid);
        return s.masterPid === masterPid && ready.length >= count ? ready : null;
      } catch {
        return null;
      }
    };
    const first = launch(exe, args, dir, {});
    running.push(first);
    const oldWorkers = await waitFor(() => workersOf(first.child.pid!, 2), {
      timeoutMs: 30_000,
      message: "two ready workers",
    });
    const { openStore } = await import("../../src/store/index.ts");
    const store = await openStore(`sqlite:${join(dir, "var", "app.db")}`, { migrate: "verify" });
    try {
      const jobs = makeJobs(store);
      const ids: string[] = [];
      for (let i = 0; i < 80; i++) ids.push((await jobs.enqueue("work", { ms: 150 })).id);
      await waitFor(async () => ((await store.jobs.stats())[0]?.running ?? 0) >= 4, {
        timeoutMs: 20_000,
        message: "jobs in flight",
      });
      const stopAt = Date.now();
      first.child.kill("SIGTERM");
      assert.equal(await first.exit, 0, first.out.join("\n"));
      const stoppedAt = Date.now();
      for (const pid of oldWorkers) assert.throws(() => process.kill(pid, 0), `worker ${pid} left running`);
      assert.equal((await store.jobs.stats())[0]?.running ?? 0, 0, "no job left running");
      // Jobs keep arriving while the service is down (and the first master may have drained all).
      for (let i = 0; i < 40; i++) ids.push((await jobs.enqueue("work", { ms: 150 })).id);

      const startAt = Date.now();
      const second = launch(exe, args, dir, {});
      running.push(second);
      const records = await waitFor(
        async () => {
          const all = await Promise.all(ids.map((id) => jobs.get(id)));
          return all.every((j) => j?.state === "completed") ? all : null;
        },
        { timeoutMs: 60_000, message: "every job completed" },
      );
      for (const j of records) assert.equal(j!.attempt, 1, `job ${j!.id} ran once`);
      const resumed = Math.min(
        ...records.filter((j) => j!.startedAt!.getTime() >= startAt).map((j) => j!.finishedAt!.getTime()),
      );
      process.stdout.write(
        `# restart (executable, sqlite): graceful stop ${stoppedAt - stopAt} ms, start to first job completed ${resumed - startAt} ms, SIGTERM to first completion ${resumed - stopAt} ms\n`,
      );

      // A new version: the file is replaced (a new inode, as a deploy's rename does), then SIGHUP.
      const before = await waitFor(() => workersOf(second.child.pid!, 2), {
        timeoutMs: 30_000,
        message: "two ready workers after the restart",
      });
      const { rename } = await import("node:fs/promises");
      await copyFile(built, `${exe}.new`);
      await rename(`${exe}.new`, exe);
      for (const pid of before) {
        const { readlinkSync } = await import("node:fs");
        assert.match(readlinkSync(`/proc/${pid}/exe`), / \(deleted\)$/, "old workers run the replaced file");
      }
      second.child.kill("SIGHUP");
      const rolled = await waitFor(
        async () => {
          const pids = await workersOf(second.child.pid!, 2);
          if (pids === null || pids.some((p) => before.includes(p))) return null;
          const { readlinkSync } = await import("node:fs");
          return pids.every((p) => readlinkSync(`/proc/${p}/exe`) === exe) ? pids : null;
        },
        { timeoutMs: 30_000, message: "every worker rolled onto the new file" },
      );
      assert.equal(rolled.length, 2);
      second.child.kill("SIGTERM");
      assert.equal(await second.exit, 0, second.out.join("\n"));
    } finally {
      await store.close();
    }
  });
});
