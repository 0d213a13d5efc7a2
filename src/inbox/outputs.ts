import { open, rename, unlink } from "node:fs/promises";
import { join } from "node:path";
import { describeValue, TendError } from "../errors/index.ts";
import { fsyncDir } from "./folders.ts";
import { assertOutputName } from "./names.ts";
import type { OutputData } from "./types.ts";

/** Prefix of the temporary files tend writes in an output folder: `.tend~<owner>~<n>.tmp`. */
export const OUTPUT_TEMP_PREFIX = ".tend~";

/** The owner folder name encoded in a temporary output name, or undefined if it is not one. */
export function tempOutputOwner(name: string): string | undefined {
  if (!name.startsWith(OUTPUT_TEMP_PREFIX) || !name.endsWith(".tmp")) return undefined;
  const inner = name.slice(OUTPUT_TEMP_PREFIX.length, -".tmp".length);
  const cut = inner.lastIndexOf("~");
  return cut > 0 ? inner.slice(0, cut) : undefined;
}

let sequence = 0;

function isOutputData(data: unknown): data is OutputData {
  if (typeof data === "string" || data instanceof Uint8Array) return true;
  return (
    typeof data === "object" && data !== null && (Symbol.asyncIterator in data || Symbol.iterator in data)
  );
}

async function writeDurable(path: string, data: OutputData): Promise<void> {
  const fh = await open(path, "wx", 0o644);
  try {
    if (typeof data === "string" || data instanceof Uint8Array) {
      await fh.writeFile(data);
    } else {
      for await (const chunk of data as AsyncIterable<string | Uint8Array>) {
        if (typeof chunk !== "string" && !(chunk instanceof Uint8Array)) {
          throw new TendError(
            "TEND_E_INBOX_OUTPUT_DATA",
            `writeOutput() got a chunk ${describeValue(chunk)} from an iterable; yield strings or Uint8Arrays.`,
            { details: { chunk: describeValue(chunk) } },
          );
        }
        await fh.write(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
      }
    }
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => {});
    await unlink(path).catch(() => {});
    throw err;
  }
  await fh.close();
}

/**
 * The outputs of one attempt. `write` stages each output durably under a temporary dot name in the
 * output folder; `commit` renames them all to their final names and fsyncs the folder, so a reader
 * sees either the previous complete file or the new complete file, never a part. A failed attempt
 * calls `discard`, leaving nothing behind. Writing an output twice in one attempt keeps the last.
 *
 * @example
 * ```ts
 * const outputs = new OutputStager("/srv/outbox", owner);
 * await outputs.write("orders.json", JSON.stringify(summary));
 * await outputs.close();
 * await outputs.commit();
 * ```
 */
export class OutputStager {
  readonly #outDir: string;
  readonly #owner: string;
  readonly #staged = new Map<string, string>();
  readonly #pending = new Set<Promise<unknown>>();
  #closed = false;

  constructor(outDir: string, owner: string) {
    this.#outDir = outDir;
    this.#owner = owner;
  }

  /** Stages `data` as output `name`; resolves with the path it will have once committed. */
  write = async (name: string, data: OutputData): Promise<string> => {
    this.#assertOpen(name);
    assertOutputName(name);
    if (!isOutputData(data)) {
      throw new TendError(
        "TEND_E_INBOX_OUTPUT_DATA",
        `writeOutput(${JSON.stringify(name)}) got ${describeValue(data)}; pass a string, a Uint8Array or an (async) iterable of them.`,
        { details: { name, data: describeValue(data) } },
      );
    }
    const temp = join(this.#outDir, `${OUTPUT_TEMP_PREFIX}${this.#owner}~${++sequence}.tmp`);
    const work = writeDurable(temp, data);
    this.#pending.add(work);
    try {
      await work;
    } finally {
      this.#pending.delete(work);
    }
    // A write started before the attempt ended counts even if process() forgot to await it: close()
    // waits for it, so it is committed (or discarded) with the others.
    const previous = this.#staged.get(name);
    this.#staged.delete(name);
    this.#staged.set(name, temp);
    if (previous !== undefined) await unlink(previous).catch(() => {});
    return join(this.#outDir, name);
  };

  /** Number of outputs staged so far. */
  get size(): number {
    return this.#staged.size;
  }

  /** Refuses further writes and waits for writes still under way to settle. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.allSettled([...this.#pending]);
  }

  /** Renames every staged output to its final name, then fsyncs the output folder. */
  async commit(): Promise<void> {
    if (this.#staged.size === 0) return;
    for (const [name, temp] of this.#staged) {
      await rename(temp, join(this.#outDir, name));
      this.#staged.delete(name);
    }
    await fsyncDir(this.#outDir);
  }

  /** Removes every staged output. */
  async discard(): Promise<void> {
    const temps = [...this.#staged.values()];
    this.#staged.clear();
    await Promise.all(temps.map((t) => unlink(t).catch(() => {})));
  }

  #assertOpen(name: string): void {
    if (this.#closed) {
      throw new TendError(
        "TEND_E_INBOX_OUTPUT_CLOSED",
        `writeOutput(${JSON.stringify(name)}) was called after its attempt had ended; await every writeOutput() before process() returns.`,
        { details: { name } },
      );
    }
  }
}
