import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, test } from "node:test";
import { makeTempDir } from "../support/tmp.ts";
import { waitFor } from "../support/wait.ts";
import { drop, list, startInbox } from "./helpers.ts";

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function tempDir(): Promise<string> {
  const t = await makeTempDir("tend-inbox-");
  cleanups.push(t.cleanup);
  return t.dir;
}

test("processes a dropped file: outputs committed, input moved to done/", async () => {
  const dir = await tempDir();
  const seen: { name: string; size: number; content: string }[] = [];
  const running = startInbox({
    dir,
    settle: 0,
    process: async (file, ctx) => {
      const content = await readFile(file.path, "utf8");
      seen.push({ name: file.name, size: file.size, content });
      await ctx.writeOutput(`${file.name}.out`, content.toUpperCase());
    },
  });
  cleanups.push(() => running.stop());
  await drop(dir, "a.txt", "hello");
  await waitFor(async () => (await list(join(dir, "done"))).includes("a.txt"), { message: "a.txt in done/" });
  assert.deepEqual(seen, [{ name: "a.txt", size: 5, content: "hello" }]);
  assert.equal(await readFile(join(dir, "out", "a.txt.out"), "utf8"), "HELLO");
  assert.deepEqual(await list(join(dir, "out")), ["a.txt.out"]);
  assert.equal(running.inbox.counters.claimed, 1);
  assert.equal(running.inbox.counters.done, 1);
  await running.stop();
  assert.deepEqual(await list(join(dir, ".processing")), [], "claim folder removed on stop");
});

test("a failing file is retried, then moved to failed/ with a sidecar; its outputs never appear", async () => {
  const dir = await tempDir();
  let calls = 0;
  const running = startInbox({
    dir,
    settle: 0,
    retries: 2,
    retryDelay: 1,
    process: async (file, ctx) => {
      calls++;
      await ctx.writeOutput(`${file.name}.json`, "partial");
      throw new Error(`cannot parse ${file.name}`);
    },
  });
  cleanups.push(() => running.stop());
  await drop(dir, "bad.csv", "x");
  await waitFor(async () => (await list(join(dir, "failed"))).length === 2, {
    message: "bad.csv and sidecar in failed/",
  });
  assert.deepEqual(await list(join(dir, "failed")), ["bad.csv", "bad.csv.error.json"]);
  const sidecar = JSON.parse(await readFile(join(dir, "failed", "bad.csv.error.json"), "utf8"));
  assert.equal(sidecar.name, "bad.csv");
  assert.equal(sidecar.attempts, 3);
  assert.equal(sidecar.error.message, "cannot parse bad.csv");
  assert.match(sidecar.error.stack, /cannot parse bad\.csv/);
  assert.equal(sidecar.attemptLog.length, 3);
  assert.ok(Date.parse(sidecar.failedAt) >= Date.parse(sidecar.claimedAt));
  assert.equal(calls, 3);
  assert.deepEqual(await list(join(dir, "out")), [], "no output, not even a temporary one");
  assert.equal(running.inbox.counters.failed, 1);
  assert.equal(running.inbox.counters.retried, 2);
});

test("a file that fails once and then succeeds ends in done/", async () => {
  const dir = await tempDir();
  let calls = 0;
  const running = startInbox({
    dir,
    settle: 0,
    retryDelay: 1,
    process: async (_file, ctx) => {
      calls++;
      if (ctx.attempt === 1) throw new Error("transient");
      await ctx.writeOutput("result.txt", `attempt ${ctx.attempt}`);
    },
  });
  cleanups.push(() => running.stop());
  await drop(dir, "flaky.txt", "x");
  await waitFor(async () => (await list(join(dir, "done"))).includes("flaky.txt"), {
    message: "flaky.txt in done/",
  });
  assert.equal(calls, 2);
  assert.equal(await readFile(join(dir, "out", "result.txt"), "utf8"), "attempt 2");
  assert.deepEqual(await list(join(dir, "failed")), []);
});

test("a corrupt file fails alone while the others are processed", async () => {
  const dir = await tempDir();
  const running = startInbox({
    dir,
    settle: 0,
    retries: 0,
    concurrency: 2,
    process: async (file, ctx) => {
      const text = await readFile(file.path, "utf8");
      const value = JSON.parse(text) as { n: number };
      await ctx.writeOutput(`${file.name}.out`, String(value.n * 2));
    },
  });
  cleanups.push(() => running.stop());
  for (let i = 0; i < 5; i++) await drop(dir, `${i}.json`, JSON.stringify({ n: i }));
  await drop(dir, "corrupt.json", "{not json");
  await waitFor(
    async () =>
      (await list(join(dir, "done"))).length === 5 && (await list(join(dir, "failed"))).length === 2,
    {
      message: "5 done, 1 failed",
    },
  );
  assert.deepEqual(await list(join(dir, "failed")), ["corrupt.json", "corrupt.json.error.json"]);
  assert.equal(await readFile(join(dir, "out", "4.json.out"), "utf8"), "8");
});

test("onDone: delete removes the input once its outputs are durable", async () => {
  const dir = await tempDir();
  const running = startInbox({
    dir,
    settle: 0,
    onDone: "delete",
    process: async (file, ctx) => {
      await ctx.writeOutput("copy.txt", await readFile(file.path));
    },
  });
  cleanups.push(() => running.stop());
  await drop(dir, "gone.txt", "bye");
  await waitFor(() => running.inbox.counters.done === 1, { message: "done" });
  assert.deepEqual(await list(join(dir, "done")), []);
  assert.equal(await readFile(join(dir, "out", "copy.txt"), "utf8"), "bye");
  assert.deepEqual(await list(dir), [".processing", "done", "failed", "out"]);
});

test("temporary and dot names are never claimed; match filters the rest", async () => {
  const dir = await tempDir();
  const processed: string[] = [];
  const running = startInbox({
    dir,
    settle: 0,
    match: "*.csv",
    process: (file) => {
      processed.push(file.name);
    },
  });
  cleanups.push(() => running.stop());
  for (const name of [".hidden.csv", "a.csv.tmp", "b.csv.part", "c.csv~", ".#d.csv", "#e.csv#", "f.txt"]) {
    await writeFile(join(dir, name), "x");
  }
  await drop(dir, "last.csv", "x");
  await waitFor(() => processed.includes("last.csv"), { message: "last.csv processed" });
  await waitFor(() => running.inbox.counters.done === 1);
  // Events are handled in order: every earlier name was looked at before last.csv was.
  assert.deepEqual(processed, ["last.csv"]);
  assert.deepEqual(
    (await list(dir)).filter((n) => ![".processing", "done", "failed", "out"].includes(n)),
    ["#e.csv#", ".#d.csv", ".hidden.csv", "a.csv.tmp", "b.csv.part", "c.csv~", "f.txt"],
  );
});

test("an output write started but not awaited by process() is still committed with the attempt", async () => {
  const dir = await tempDir();
  const running = startInbox({
    dir,
    settle: 0,
    process: (file, ctx) => {
      void ctx.writeOutput(`${file.name}.out`, "late but started");
    },
  });
  cleanups.push(() => running.stop());
  await drop(dir, "forgot-await.txt", "x");
  await waitFor(() => running.inbox.counters.done === 1, { message: "done" });
  assert.equal(await readFile(join(dir, "out", "forgot-await.txt.out"), "utf8"), "late but started");
});
