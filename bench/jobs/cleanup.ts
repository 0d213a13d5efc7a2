/**
 * Everything the jobs benchmark starts (databases, temp folders, child processes, open stores) is
 * registered here and undone in reverse order at the end, on failure, and on SIGINT/SIGTERM.
 */

type Undo = { name: string; run: () => Promise<void> | void };

const undos: Undo[] = [];

/** Registers an undo step; returns a function that runs it now (once) and unregisters it. */
export function onCleanup(name: string, run: () => Promise<void> | void): () => Promise<void> {
  const undo: Undo = { name, run };
  undos.push(undo);
  return async () => {
    const i = undos.indexOf(undo);
    if (i === -1) return;
    undos.splice(i, 1);
    await run();
  };
}

/** Runs every registered undo step, newest first; reports (does not throw) the ones that fail. */
export async function cleanupAll(): Promise<void> {
  while (undos.length > 0) {
    const undo = undos.pop()!;
    try {
      await undo.run();
    } catch (err) {
      process.stderr.write(`bench cleanup: ${undo.name} failed: ${(err as Error).message}\n`);
    }
  }
}

/** On SIGINT/SIGTERM: clean up, then exit 130/143. */
export function cleanupOnSignals(): void {
  for (const [signal, code] of [
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const) {
    process.once(signal, () => {
      process.stderr.write(`bench: ${signal}; cleaning up\n`);
      void cleanupAll().finally(() => process.exit(code));
    });
  }
}
