import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, test } from "node:test";
import { formatOwner, newOwner, readProcessStart } from "../../src/inbox/owner.ts";
import { makeTempDir } from "../support/tmp.ts";
import { waitFor } from "../support/wait.ts";
import { drop, list, startInbox } from "./helpers.ts";

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function tempDir(): Promise<string> {
  const t = await makeTempDir("tend-inbox-recovery-");
  cleanups.push(t.cleanup);
  return t.dir;
}

function deadPid(): number {
  const child = spawnSync(process.execPath, ["-e", ""]);
  return child.pid ?? 999_999;
}

test("files and partial outputs of a dead owner are recovered; a rerun overwrites its outputs cleanly", async () => {
  const dir = await tempDir();
  const me = newOwner();
  const dead = formatOwner({ ...me, pid: deadPid(), start: "1", token: "dead0000" });
  await mkdir(join(dir, ".processing", dead), { recursive: true });
  await mkdir(join(dir, "out"));
  await writeFile(join(dir, ".processing", dead, "r.txt"), "new");
  // The dead process had committed r.txt's output (from this very input) but died before moving it to done/,
  // and had half-written another output.
  await writeFile(join(dir, "out", "r.txt.out"), "old");
  await writeFile(join(dir, "out", `.tend~${dead}~7.tmp`), "half");
  const recovered: boolean[] = [];
  const running = startInbox({
    dir,
    settle: 0,
    process: async (file, ctx) => {
      recovered.push(file.recovered);
      await ctx.writeOutput(`${file.name}.out`, await readFile(file.path));
    },
  });
  cleanups.push(() => running.stop());
  await waitFor(async () => (await list(join(dir, "done"))).includes("r.txt"), { message: "r.txt done" });
  assert.deepEqual(recovered, [true]);
  assert.deepEqual(await list(join(dir, "out")), ["r.txt.out"], "partial output removed");
  assert.equal(await readFile(join(dir, "out", "r.txt.out"), "utf8"), "new");
  assert.equal(running.inbox.counters.recovered, 1);
  assert.equal((await list(join(dir, ".processing"))).length, 1, "only the live claim folder remains");
});

test("the claim folder of a live process is left alone", async () => {
  const dir = await tempDir();
  const me = newOwner();
  const live = formatOwner({
    ...me,
    pid: process.ppid,
    start: readProcessStart(process.ppid) ?? "x",
    token: "live0000",
  });
  await mkdir(join(dir, ".processing", live), { recursive: true });
  await writeFile(join(dir, ".processing", live, "theirs.txt"), "busy elsewhere");
  const processed: string[] = [];
  const running = startInbox({ dir, settle: 0, process: (file) => void processed.push(file.name) });
  cleanups.push(() => running.stop());
  await drop(dir, "mine.txt", "x");
  await waitFor(() => processed.includes("mine.txt"), { message: "mine.txt processed" });
  await running.stop();
  assert.deepEqual(processed, ["mine.txt"]);
  assert.deepEqual(await list(join(dir, ".processing", live)), ["theirs.txt"]);
});

test("two inboxes on one folder in one process share the work without overlap or theft", async () => {
  const dir = await tempDir();
  const counts = new Map<string, number>();
  const by = new Map<string, number>();
  const make = (label: string) =>
    startInbox({
      dir,
      settle: 0,
      concurrency: 2,
      rescan: 20, // frequent recovery passes: neither may take the other's live claims
      process: async (file) => {
        counts.set(file.name, (counts.get(file.name) ?? 0) + 1);
        by.set(label, (by.get(label) ?? 0) + 1);
        await new Promise((r) => setImmediate(r));
      },
    });
  const a = make("a");
  const b = make("b");
  cleanups.push(
    () => a.stop(),
    () => b.stop(),
  );
  await waitFor(async () => (await list(join(dir, ".processing"))).length === 2, { message: "both started" });
  for (let i = 0; i < 200; i++) await drop(dir, `n${i}.txt`, String(i));
  await waitFor(() => a.inbox.counters.done + b.inbox.counters.done === 200, { message: "200 done" });
  assert.equal(counts.size, 200);
  assert.deepEqual(
    [...counts.values()].filter((n) => n !== 1),
    [],
  );
  assert.equal(a.inbox.counters.recovered + b.inbox.counters.recovered, 0);
  assert.ok((by.get("a") ?? 0) > 0 && (by.get("b") ?? 0) > 0, "both inboxes took part");
});

test("a second file of the same name gets a free name in done/", async () => {
  const dir = await tempDir();
  const running = startInbox({ dir, settle: 0, process: () => {} });
  cleanups.push(() => running.stop());
  await drop(dir, "same.csv", "first");
  await waitFor(() => running.inbox.counters.done === 1);
  await drop(dir, "same.csv", "second");
  await waitFor(() => running.inbox.counters.done === 2);
  assert.deepEqual(await list(join(dir, "done")), ["same.csv", "same~1.csv"]);
  assert.equal(await readFile(join(dir, "done", "same.csv"), "utf8"), "first");
  assert.equal(await readFile(join(dir, "done", "same~1.csv"), "utf8"), "second");
});

test("an unfinished file never overwrites a newer file of the same name; the next start recovers it", async () => {
  const dir = await tempDir();
  let started!: () => void;
  const startedP = new Promise<void>((r) => {
    started = r;
  });
  const first = startInbox({
    dir,
    settle: 0,
    drainTimeout: 20,
    process: (_file, ctx) =>
      new Promise((_resolve, reject) => {
        started();
        ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason), { once: true });
      }),
  });
  cleanups.push(() => first.stop());
  await drop(dir, "dup.txt", "old");
  await startedP;
  await drop(dir, "dup.txt", "new"); // same name arrives while the first is in flight: left waiting
  await first.stop();
  assert.equal(await readFile(join(dir, "dup.txt"), "utf8"), "new", "the newer file is intact");
  const [claimFolder] = await list(join(dir, ".processing"));
  assert.deepEqual(await list(join(dir, ".processing", claimFolder ?? "")), ["dup.txt"]);
  const seen: string[] = [];
  const second = startInbox({
    dir,
    settle: 0,
    process: async (file) => void seen.push(await readFile(file.path, "utf8")),
  });
  cleanups.push(() => second.stop());
  await waitFor(() => second.inbox.counters.done === 2, { message: "both dup.txt done" });
  assert.deepEqual(seen.sort(), ["new", "old"]);
  assert.deepEqual(await list(join(dir, "done")), ["dup.txt", "dup~1.txt"]);
});

test("a claim folder deleted under a running inbox is recreated and claiming goes on", async () => {
  const dir = await tempDir();
  const running = startInbox({ dir, settle: 0, process: () => {} });
  cleanups.push(() => running.stop());
  await waitFor(async () => (await list(join(dir, ".processing"))).length === 1, { message: "claim folder" });
  const [claimFolder] = await list(join(dir, ".processing"));
  await rm(join(dir, ".processing", claimFolder ?? ""), { recursive: true });
  await drop(dir, "after.txt", "x");
  await waitFor(async () => (await list(join(dir, "done"))).includes("after.txt"), {
    message: "after.txt done",
  });
  assert.deepEqual(await list(join(dir, ".processing")), [claimFolder]);
});
