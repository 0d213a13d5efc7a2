import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const FIXTURE = fileURLToPath(new URL("./fixtures/program.ts", import.meta.url));
const children = new Set<ChildProcess>();

after(() => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
});

type Line = Record<string, unknown>;

/** Runs the fixture in a real child Node process and follows its JSON log lines. */
function start(mode: string, program = FIXTURE) {
  const env: NodeJS.ProcessEnv = { ...process.env, TEND_LOG_PRETTY: "0", TEND_LOG_LEVEL: "debug" };
  delete env["NODE_TEST_CONTEXT"];
  const child = spawn(process.execPath, program === FIXTURE ? [program, mode] : [program], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  const lines: Line[] = [];
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const waiters: { match: (line: Line) => boolean; resolve: (line: Line) => void }[] = [];
  createInterface({ input: child.stdout! }).on("line", (text) => {
    let line: Line;
    try {
      line = JSON.parse(text) as Line;
    } catch {
      line = { msg: text, notJson: true };
    }
    lines.push(line);
    for (const waiter of [...waiters]) {
      if (waiter.match(line)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  });
  const exited = once(child, "exit").then(([code, signal]) => ({ code: code as number | null, signal }));
  return {
    child,
    lines,
    stderr: () => stderr,
    exited,
    /** Resolves with the first line (past or future) matching; rejects if the child exits first. */
    waitForLine(match: (line: Line) => boolean): Promise<Line> {
      const seen = lines.find(match);
      if (seen !== undefined) return Promise.resolve(seen);
      return Promise.race([
        new Promise<Line>((resolve) => waiters.push({ match, resolve })),
        exited.then(({ code }) => {
          throw new Error(
            `child exited (${code}) before the line; stderr: ${stderr}\nstdout: ${JSON.stringify(lines)}`,
          );
        }),
      ]);
    },
  };
}

const msg = (text: string) => (line: Line) => line["msg"] === text;
const index = (lines: Line[], match: (line: Line) => boolean) => lines.findIndex(match);

describe("a real program run by main()", () => {
  it("SIGTERM while a task is mid-work drains it: the work completes, exit 0, 'clean shutdown' logged", async () => {
    const run = start("drain");
    await run.waitForLine(msg("ready"));
    run.child.kill("SIGTERM");
    const { code } = await run.exited;
    assert.equal(code, 0, run.stderr());
    const signalAt = index(run.lines, (l) => l["signal"] === "SIGTERM");
    assert.ok(signalAt >= 0, "the signal was logged");
    const started = run.lines.filter(msg("work started"));
    const last = started.at(-1)?.["item"];
    const completedAt = index(run.lines, (l) => l["msg"] === "work completed" && l["item"] === last);
    assert.ok(completedAt > signalAt, "the item in flight when SIGTERM arrived completed after it");
    assert.ok(index(run.lines, msg("work started")) < signalAt);
    assert.equal(
      run.lines.slice(signalAt).filter(msg("work started")).length,
      0,
      "no new work started after the signal",
    );
    assert.ok(run.lines.some(msg("clean shutdown")));
  });

  it("a second SIGTERM during shutdown exits at once with code 143", async () => {
    const run = start("second");
    await run.waitForLine(msg("ready"));
    run.child.kill("SIGTERM");
    await run.waitForLine(msg("draining slowly"));
    run.child.kill("SIGTERM");
    const { code } = await run.exited;
    assert.equal(code, 143, run.stderr());
    assert.ok(
      run.lines.some((l) => l["level"] === 60 && l["code"] === 143),
      "the forced exit was logged",
    );
  });

  it("a task that ignores its signal makes the program exit 70 after the shutdown timeout", async () => {
    const run = start("hang");
    await run.waitForLine(msg("ready"));
    run.child.kill("SIGTERM");
    const { code } = await run.exited;
    assert.equal(code, 70, run.stderr());
    const timeout = run.lines.find(msg("shutdown timed out"));
    assert.deepEqual(timeout?.["tasks"], ["stubborn"]);
    assert.ok(run.lines.some(msg("bystander stopped cleanly")));
  });

  for (const [mode, task, kind] of [
    ["crash", "crasher", "uncaughtException"],
    ["reject", "rejecter", "unhandledRejection"],
  ] as const) {
    it(`an ${kind} inside one task is attributed to it, stops the others cleanly and exits 1`, async () => {
      const run = start(mode);
      const { code } = await run.exited;
      assert.equal(code, 1, run.stderr());
      const crashed = run.lines.find(msg("task crashed"));
      assert.equal(crashed?.["task"], task);
      assert.equal(crashed?.["kind"], kind);
      assert.ok(run.lines.some(msg("bystander stopped cleanly")));
      const outcome = run.lines.find(msg("stopped with errors"));
      const err = outcome?.["err"] as { code: string; message: string } | undefined;
      assert.equal(err?.code, "TEND_E_TASK_FAILED");
      assert.match(err?.message ?? "", new RegExp(`"${task}"`));
    });
  }

  it("cleanups run in reverse order even when one throws, and the program exits 1", async () => {
    const run = start("cleanups");
    await run.waitForLine(msg("ready"));
    run.child.kill("SIGTERM");
    const { code } = await run.exited;
    assert.equal(code, 1, run.stderr());
    assert.deepEqual(
      run.lines.filter(msg("cleanup ran")).map((l) => l["cleanup"]),
      ["c3", "c2", "c1"],
    );
    const bystanderAt = index(run.lines, msg("bystander stopped cleanly"));
    assert.ok(
      bystanderAt >= 0 && bystanderAt < index(run.lines, msg("cleanup ran")),
      "cleanups ran after the tasks",
    );
    const err = run.lines.find(msg("stopped with errors"))?.["err"] as { code: string } | undefined;
    assert.equal(err?.code, "TEND_E_CLEANUP_FAILED");
  });

  it("an uncaught exception inside a cleanup is recorded against it and the other cleanups still run", async () => {
    const run = start("cleanup-crash");
    await run.waitForLine(msg("ready"));
    run.child.kill("SIGTERM");
    const { code } = await run.exited;
    assert.equal(code, 1, run.stderr());
    assert.equal(run.lines.find(msg("cleanup crashed"))?.["cleanup"], "crashy");
    assert.deepEqual(
      run.lines.filter(msg("cleanup ran")).map((l) => l["cleanup"]),
      ["crashy", "first"],
    );
    const err = run.lines.find(msg("stopped with errors"))?.["err"] as { code?: string } | undefined;
    assert.equal(err?.code, "TEND_E_CLEANUP_FAILED");
  });

  it("an uncaught exception outside any task stops the manager with TEND_E_UNCAUGHT_EXCEPTION and exits 1", async () => {
    const run = start("outside");
    const { code } = await run.exited;
    assert.equal(code, 1, run.stderr());
    assert.ok(run.lines.some(msg("crash outside any task")));
    assert.ok(run.lines.some(msg("bystander stopped cleanly")));
    const err = run.lines.find(msg("stopped with errors"))?.["err"] as { code?: string } | undefined;
    assert.equal(err?.code, "TEND_E_UNCAUGHT_EXCEPTION");
  });

  it("loses and reorders no log line when main() exits right after a burst of logging", async () => {
    const run = start("burst");
    const { code } = await run.exited;
    assert.equal(code, 0, run.stderr());
    const numbers = run.lines.filter(msg("line")).map((l) => l["n"]);
    assert.equal(numbers.length, 5000);
    assert.ok(
      numbers.every((n, i) => n === i + 1),
      "lines in order",
    );
    assert.equal(run.lines.at(-1)?.["msg"], "clean shutdown");
  });
});
