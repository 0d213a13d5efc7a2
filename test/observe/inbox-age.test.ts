import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { createInbox } from "../../src/inbox/index.ts";
import { createLogger } from "../../src/log/logger.ts";
import { createRegistry, InboxWatch } from "../../src/observe/index.ts";
import { drop } from "../inbox/helpers.ts";
import { makeTempDir } from "../support/tmp.ts";
import { waitFor } from "../support/wait.ts";

function sample(text: string, series: string): number | undefined {
  for (const line of text.split("\n"))
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  return undefined;
}

describe("tend_inbox_oldest_file_age_seconds", () => {
  it("is the age of the oldest file waiting to be claimed, and 0 once none waits", async (t) => {
    const tmp = await makeTempDir("tend-inbox-age-");
    t.after(() => tmp.cleanup());
    const dir = join(tmp.dir, "in");
    await mkdir(dir, { recursive: true });
    let release: () => void = () => {};
    const blocked = new Promise<void>((resolve) => (release = resolve));
    const started: string[] = [];
    const watch = new InboxWatch();
    const inbox = createInbox(
      {
        dir,
        name: "aged",
        concurrency: 1,
        settle: 0,
        process: async (file) => {
          started.push(file.name);
          await blocked;
        },
      },
      { log: createLogger({ pretty: false, level: "warn" }), observer: watch },
    );
    const registry = createRegistry();
    watch.register(registry, () => [inbox]);
    const series = 'tend_inbox_oldest_file_age_seconds{inbox="aged"}';
    assert.equal(sample(await registry.metrics(), series), 0, "not running: nothing waits");

    const controller = new AbortController();
    const finished = inbox.run(controller.signal);
    t.after(async () => {
      release();
      controller.abort();
      await finished.catch(() => {});
    });
    await drop(dir, "a.txt", "a");
    await waitFor(() => started.length === 1, { message: "the first file to be claimed" });
    const beforeWaiting = Date.now();
    await drop(dir, "b.txt", "b");
    await drop(dir, "c.txt", "c");
    const since = await waitFor(() => (inbox.counters.backlog === 2 ? inbox.oldestWaitingSince() : null), {
      message: "two files waiting behind the busy slot",
    });
    assert.ok(since >= beforeWaiting && since <= Date.now(), "first seen after it was dropped");
    const age = sample(await registry.metrics(), series)!;
    const bound = (Date.now() - beforeWaiting) / 1000;
    assert.ok(age >= 0 && age <= bound, `age ${age} s within [0, ${bound}] s`);

    release();
    await waitFor(() => inbox.counters.done === 3, { message: "all three files done" });
    assert.equal(inbox.oldestWaitingSince(), null);
    assert.equal(sample(await registry.metrics(), series), 0);
  });
});
