import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
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
