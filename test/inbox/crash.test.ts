import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, test } from "node:test";
import { makeTempDir } from "../support/tmp.ts";
import { waitFor } from "../support/wait.ts";
import { type Child, killChild, spawnFixture } from "./fixtures/spawn.ts";
import { drop, list } from "./helpers.ts";

const children: Child[] = [];
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of children) await killChild(c);
  for (const c of cleanups.reverse()) await c();
});

async function setup() {
  const t = await makeTempDir("tend-inbox-crash-");
  cleanups.push(t.cleanup);
  const dir = join(t.dir, "inbox");
  const outDir = join(t.dir, "out");
  const markerLog = join(t.dir, "markers.log");
  await mkdir(dir);
  await writeFile(markerLog, "");
  return { dir, outDir, markerLog };
}

async function markers(markerLog: string): Promise<[string, string][]> {
  const text = await readFile(markerLog, "utf8");
  return text
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => l.split("\t") as [string, string]);
}

function start(env: Record<string, string>): Child {
  const child = spawnFixture("worker.ts", env);
  children.push(child);
  return child;
}

/** Every input in done/ exactly once, with one complete output that matches it. */
async function assertAllDone(dir: string, outDir: string, names: string[]) {
  assert.deepEqual(await list(join(dir, "done")), [...names].sort(), "each file in done/ exactly once");
  assert.deepEqual(await list(join(dir, "failed")), []);
  assert.deepEqual(
    await list(outDir),
    names.map((n) => `${n}.json`).sort(),
    "one output per file, no temporaries",
  );
  for (const name of names) {
    const input = await readFile(join(dir, "done", name));
    const output = JSON.parse(await readFile(join(outDir, `${name}.json`), "utf8")) as {
      size: number;
      sha256: string;
    };
    assert.equal(output.size, input.length);
    assert.equal(output.sha256, createHash("sha256").update(input).digest("hex"));
  }
}

test("SIGKILL with files in flight, twice: after restarts every file is in done/ exactly once with a complete output", async () => {
  const { dir, outDir, markerLog } = await setup();
  const names = Array.from({ length: 60 }, (_, i) => `file-${String(i).padStart(3, "0")}.dat`);
  for (const name of names) await drop(dir, name, `payload of ${name}\n`.repeat(50));
  const env = { INBOX_DIR: dir, OUT_DIR: outDir, MARKER_LOG: markerLog, DELAY_MS: "40", CONCURRENCY: "4" };
  for (const killAfter of [10, 30]) {
    const child = start(env);
    await waitFor(async () => (await markers(markerLog)).length >= killAfter, {
      timeoutMs: 20_000,
      message: `${killAfter} files started`,
    });
    child.proc.kill("SIGKILL");
    assert.equal(await child.exited, "SIGKILL");
    const claimFolders = await list(join(dir, ".processing"));
    assert.equal(claimFolders.length, 1, "the dead process left its claim folder");
    assert.ok(
      (await list(join(dir, ".processing", claimFolders[0] ?? ""))).length > 0,
      "with files in flight in it",
    );
  }
  const last = start(env);
  await waitFor(async () => (await list(join(dir, "done"))).length === names.length, {
    timeoutMs: 30_000,
    message: "all files done",
  });
  last.proc.kill("SIGTERM");
  assert.equal(await last.exited, 0);
  await last.waitForLine("clean shutdown");
  assert.ok(
    last.lines.some(
      (l) => l["msg"] === "recovered files from an inbox process that died; processing them again",
    ),
  );
  await assertAllDone(dir, outDir, names);
  assert.deepEqual(await list(join(dir, ".processing")), [], "no claim folder left");
  const started = await markers(markerLog);
  assert.ok(started.length > names.length, "the killed files were processed again (at-least-once)");
  assert.deepEqual(new Set(started.map(([, n]) => n)), new Set(names));
});

test("two processes on one inbox never process a file twice", async () => {
  const { dir, outDir, markerLog } = await setup();
  const env = { INBOX_DIR: dir, OUT_DIR: outDir, MARKER_LOG: markerLog, DELAY_MS: "4", CONCURRENCY: "3" };
  const a = start(env);
  const b = start(env);
  await Promise.all([a.waitForLine("inbox started"), b.waitForLine("inbox started")]);
  const names = Array.from({ length: 300 }, (_, i) => `drop-${String(i).padStart(3, "0")}.txt`);
  for (const name of names) await drop(dir, name, `data ${name}`);
  await waitFor(async () => (await list(join(dir, "done"))).length === names.length, {
    timeoutMs: 30_000,
    message: "all done",
  });
  a.proc.kill("SIGTERM");
  b.proc.kill("SIGTERM");
  assert.deepEqual([await a.exited, await b.exited], [0, 0]);
  const started = await markers(markerLog);
  const counts = new Map<string, number>();
  for (const [, name] of started) counts.set(name, (counts.get(name) ?? 0) + 1);
  assert.deepEqual(
    [...counts.entries()].filter(([, n]) => n !== 1),
    [],
    "each file processed exactly once",
  );
  assert.equal(counts.size, names.length);
  const pids = new Set(started.map(([pid]) => pid));
  assert.equal(pids.size, 2, "both processes took part");
  await assertAllDone(dir, outDir, names);
});
