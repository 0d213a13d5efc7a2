import { readdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createInbox, type Inbox } from "../../src/inbox/index.ts";
import type { InboxOptions } from "../../src/inbox/types.ts";
import { createLogger } from "../../src/log/logger.ts";

/** A running inbox under test: stop() aborts it and waits for run() to return. */
export interface RunningInbox {
  readonly inbox: Inbox;
  readonly finished: Promise<void>;
  stop(): Promise<void>;
}

/** Starts an inbox in this process with a quiet logger. */
export function startInbox(options: InboxOptions): RunningInbox {
  const inbox = createInbox(options, { log: createLogger({ pretty: false }) });
  const controller = new AbortController();
  const finished = inbox.run(controller.signal);
  finished.catch(() => {});
  return {
    inbox,
    finished,
    async stop() {
      controller.abort();
      await finished;
    },
  };
}

/** Drops a file the documented way: write under a dot name, then rename into the inbox. */
export async function drop(dir: string, name: string, data: string | Uint8Array): Promise<void> {
  const temp = join(dir, `.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
  await writeFile(temp, data);
  await rename(temp, join(dir, name));
}

/** Names in a folder, sorted; [] when it does not exist. */
export async function list(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch {
    return [];
  }
}
