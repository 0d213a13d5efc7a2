import assert from "node:assert/strict";
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, test } from "node:test";
import { makeTempDir } from "../support/tmp.ts";
import { waitFor } from "../support/wait.ts";
import { type Child, killChild, spawnFixture } from "./fixtures/spawn.ts";
import { chunksOf } from "./fixtures/writer.ts";
import { list, startInbox } from "./helpers.ts";

const children: Child[] = [];
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of children) await killChild(c);
  for (const c of cleanups.reverse()) await c();
});

test("1,000 files from a slow concurrent writer (half renamed in, half written in place) are each processed once, complete", async () => {
  const t = await makeTempDir("tend-inbox-producer-");
  cleanups.push(t.cleanup);
  const dir = join(t.dir, "inbox");
  await mkdir(dir);
  const count = 1000;
  const seen = new Map<string, number>();
  const incomplete: string[] = [];
  const running = startInbox({
    dir,
    concurrency: 8,
    settle: 1000, // well above the writer's 15 ms gaps between chunks
    rescan: 500,
    retries: 0,
    process: async (file, ctx) => {
      seen.set(file.name, (seen.get(file.name) ?? 0) + 1);
      const i = Number(/^f-(\d+)\.txt$/.exec(file.name)?.[1]);
      const text = await readFile(file.path, "utf8");
      if (text !== chunksOf(i).join("")) {
        incomplete.push(file.name);
        throw new Error(`incomplete file ${file.name}: ${text.length} bytes`);
      }
      await ctx.writeOutput(`${file.name}.ok`, String(text.length));
    },
  });
  cleanups.push(() => running.stop());
  const writer = spawnFixture("writer.ts", {
    INBOX_DIR: dir,
    COUNT: String(count),
    PARALLEL: "40",
    CHUNK_GAP_MS: "15",
  });
  children.push(writer);
  await waitFor(() => running.inbox.counters.done + running.inbox.counters.failed === count, {
    timeoutMs: 45_000,
    intervalMs: 50,
    message: `${count} files finished`,
  });
  assert.equal(await writer.exited, 0);
  await running.stop();
  assert.deepEqual(incomplete, [], "no file was claimed before it was complete");
  assert.equal(seen.size, count);
  assert.deepEqual(
    [...seen.values()].filter((n) => n !== 1),
    [],
    "each file processed exactly once",
  );
  assert.equal((await list(join(dir, "done"))).length, count);
  assert.deepEqual(await list(join(dir, "failed")), []);
  assert.equal((await list(join(dir, "out"))).length, count);
  assert.equal(running.inbox.counters.claimed, count);
});
