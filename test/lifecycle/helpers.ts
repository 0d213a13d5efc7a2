import type { Task } from "../../src/lifecycle/index.ts";

/** A promise with its resolve and reject exposed. */
export function deferred<T = void>(): {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (err: unknown) => void;
} {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Resolves when `signal` aborts. */
export function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
}

/** A well-behaved task: runs until its signal aborts, then returns. */
export function idleTask(name: string, events?: string[]): Task {
  return {
    name,
    async run(signal) {
      events?.push(`${name} started`);
      await aborted(signal);
      events?.push(`${name} stopped`);
    },
  };
}
