import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { readStatusFile, type SupervisorStatus } from "../../src/supervise/status.ts";
import { makeTempDir } from "../support/tmp.ts";
import { waitFor } from "../support/wait.ts";

const TEND = join(import.meta.dirname, "..", "..", "bin", "tend.js");
const APP = join(import.meta.dirname, "fixtures", "app.ts");
let dir: string;
let cleanup: () => Promise<void>;

before(async () => {
  const t = await makeTempDir("tend-supervise-cli-");
  dir = t.dir;
  cleanup = t.cleanup;
});
after(() => cleanup());

function tend(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [TEND, ...args], { encoding: "utf8", cwd: dir, timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function fakeStatus(masterPid: number): SupervisorStatus {
  const now = new Date().toISOString();
  return {
    version: 1,
    masterPid,
    program: APP,
    state: "running",
    startedAt: now,
    updatedAt: now,
    min: 1,
    max: 4,
    desired: 1,
    restartsTotal: 2,
    restartsInWindow: 1,
    maxRestarts: 5,
    restartPeriodMs: 60_000,
    queue: null,
    lastScale: null,
    sparePid: null,
    workers: [
      {
        id: "host:1.x:w3",
        slot: 0,
        pid: 4242,
        state: "ready",
        retiring: false,
        startedAt: now,
        uptimeMs: 5_000,
        restarts: 2,
        inFlight: 3,
        lastHeartbeatAt: now,
        lastCompletionAt: null,
      },
    ],
  };
}

describe("tend supervise / unit / status (CLI)", () => {
  it("rejects bad input with TEND_E_ codes", () => {
    const cases: Array<[string[], string]> = [
      [["supervise", "missing.ts"], "TEND_E_SUPERVISE_PROGRAM_NOT_FOUND"],
      [["supervise", APP, "--min", "3", "--max", "2"], "TEND_E_SUPERVISE_INVALID_COUNT"],
      [["supervise", APP, "--min", "1.5"], "TEND_E_SUPERVISE_INVALID_COUNT"],
      [["supervise", APP, "--max", "0"], "TEND_E_SUPERVISE_INVALID_COUNT"],
      [["supervise", APP, "--max", "two"], "TEND_E_SUPERVISE_INVALID_COUNT"],
      [["supervise", APP, "--hang-timeout", "soon"], "TEND_E_SUPERVISE_INVALID_TIMEOUT"],
      [["supervise", APP, "--kill-timeout", "0"], "TEND_E_SUPERVISE_INVALID_TIMEOUT"],
      [["supervise", APP, "--on-error", "no-such-hook.mjs"], "TEND_E_SUPERVISE_INVALID_HOOK"],
      [["supervise", APP, "--on-error", "not-a-hook.mjs"], "TEND_E_SUPERVISE_INVALID_HOOK"],
      [["supervise", APP, "--on-error", "broken-hook.mjs"], "TEND_E_SUPERVISE_INVALID_HOOK"],
    ];
    writeFileSync(join(dir, "not-a-hook.mjs"), "export const hook = 42;\n");
    writeFileSync(join(dir, "broken-hook.mjs"), "throw new Error('cannot load');\n");
    for (const [args, code] of cases) {
      const r = tend(...args);
      assert.equal(r.code, 1, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(code), args.join(" "));
      if (args.includes("--on-error")) assert.match(r.stderr, new RegExp(args.at(-1)!), "names the module");
    }
  });

  it("prints a systemd unit", () => {
    const r = tend(
      "unit",
      APP,
      "--node",
      "/usr/bin/node",
      "--min",
      "1",
      "--max",
      "8",
      "--user",
      "app",
      "--database",
      "postgres://app@db/app",
      "--kill-timeout",
      "60s",
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ExecStart=.* supervise .*app\.ts --min 1 --max 8 --kill-timeout 60000$/m);
    assert.match(r.stdout, /^Restart=on-failure$/m);
    assert.match(r.stdout, /^KillMode=mixed$/m);
    assert.match(r.stdout, /^TimeoutStopSec=80$/m);
    assert.match(r.stdout, /^Environment=TEND_DATABASE_URL=postgres:\/\/app@db\/app$/m);
  });

  it("status says clearly when the supervisor is not running", async () => {
    const gone = spawn(process.execPath, ["-e", ""]);
    await once(gone, "exit");
    const file = join(dir, "dead.json");
    writeFileSync(file, JSON.stringify(fakeStatus(gone.pid!)));
    const r = tend("status", "--status-file", file);
    assert.equal(r.code, 3);
    assert.match(r.stdout, /NOT running: pid \d+ from the status file is gone/);
    const live = join(dir, "live.json");
    writeFileSync(live, JSON.stringify(fakeStatus(process.pid)));
    const ok = tend("status", "--status-file", live);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /host:1\.x:w3\s+4242\s+ready/);
    const missing = tend("status", "--status-file", join(dir, "none.json"));
    assert.equal(missing.code, 1);
    assert.match(
      missing.stderr,
      /the supervisor is not running from this folder.*TEND_E_SUPERVISE_STATUS_UNREADABLE/,
    );
  });

  it("tend supervise runs workers that tend status shows, and exits 0 on SIGTERM", async (t) => {
    const statusFile = join(dir, "run.json");
    const master = spawn(
      process.execPath,
      [
        TEND,
        "supervise",
        APP,
        "--min",
        "2",
        "--max",
        "2",
        "--status-file",
        statusFile,
        "-d",
        `sqlite:${join(dir, "tend.db")}`,
      ],
      { cwd: dir, stdio: ["ignore", "ignore", "inherit"] },
    );
    const exited = once(master, "exit");
    t.after(() => {
      if (master.exitCode === null) master.kill("SIGKILL");
    });
    await waitFor(
      async () =>
        (await readStatusFile(statusFile).catch(() => null))?.workers.filter((w) => w.state === "ready")
          .length === 2,
      {
        timeoutMs: 15_000,
        message: "2 ready workers",
      },
    );
    const r = tend("status", "--status-file", statusFile);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`supervisor pid ${master.pid}: running`));
    assert.equal(r.stdout.match(/\bready\b/g)?.length, 2);
    master.kill("SIGTERM");
    const [code] = await exited;
    assert.equal(code, 0);
    assert.equal(tend("status", "--status-file", statusFile).code, 3);
  });

  it("--on-error <module>: the module's function hears a SIGKILLed worker's crash", async (t) => {
    const statusFile = join(dir, "hooked.json");
    const reports = join(dir, "crashes.jsonl");
    writeFileSync(
      join(dir, "report-crash.mjs"),
      `import { appendFileSync } from "node:fs";
export default function onError(error, context) {
  appendFileSync(${JSON.stringify(reports)}, JSON.stringify({ code: error.code, ...context }) + "\\n");
}
`,
    );
    const master = spawn(
      process.execPath,
      [
        TEND,
        "supervise",
        APP,
        "--min",
        "1",
        "--max",
        "1",
        "--on-error",
        "report-crash.mjs",
        "--status-file",
        statusFile,
        "-d",
        `sqlite:${join(dir, "hooked.db")}`,
      ],
      { cwd: dir, stdio: ["ignore", "ignore", "inherit"] },
    );
    const exited = once(master, "exit");
    t.after(() => {
      if (master.exitCode === null) master.kill("SIGKILL");
    });
    const readyWorker = async () =>
      (await readStatusFile(statusFile).catch(() => null))?.workers.find((w) => w.state === "ready");
    await waitFor(async () => (await readyWorker()) !== undefined, {
      timeoutMs: 15_000,
      message: "a ready worker",
    });
    const victim = (await readyWorker())!;
    process.kill(victim.pid, "SIGKILL");
    const crashes = (): Array<Record<string, unknown>> => {
      try {
        return readFileSync(reports, "utf8")
          .trim()
          .split("\n")
          .map((line) => JSON.parse(line) as Record<string, unknown>);
      } catch {
        return [];
      }
    };
    await waitFor(() => crashes().length > 0, { timeoutMs: 15_000, message: "the hook's report" });
    const [crash] = crashes();
    assert.equal(crash!["code"], "TEND_E_SUPERVISE_WORKER_DIED");
    assert.equal(crash!["event"], "worker.crashed");
    assert.equal(crash!["pid"], victim.pid);
    assert.equal(crash!["workerId"], victim.id);
    assert.equal(crash!["signal"], "SIGKILL");
    master.kill("SIGTERM");
    const [code] = await exited;
    assert.equal(code, 0);
  });
});

describe("tend supervise --queue", () => {
  it("is repeatable, not variadic: the program after it stays the program; a bad name is refused", () => {
    const missing = tend("supervise", "--queue", "mail", "--queue", "sms", "./nope.mjs");
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /got "\.\/nope\.mjs", expected an existing program file/);
    const bad = tend("supervise", "--queue", "bad q", APP);
    assert.equal(bad.code, 2, "a usage error");
    assert.match(bad.stderr, /argument 'bad q' is invalid/);
  });
});
