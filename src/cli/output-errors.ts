/** What the CLI does when writing its output fails: `"quiet"` exits as it is, `"report"` says why. */
export type OutputFailure = "quiet" | "report";

/**
 * Pure: how the CLI answers an error of its stdout or stderr. EPIPE means the reader went away
 * (`tend jobs list --json | head`): the output is no longer wanted, so the command ends quietly, as
 * common Unix tools do. Any other error (a full disk under a redirection, a device error) is a
 * failure the user must hear about.
 *
 * @example
 * ```ts
 * outputFailure(Object.assign(new Error("write EPIPE"), { code: "EPIPE" })); // "quiet"
 * ```
 */
export function outputFailure(err: unknown): OutputFailure {
  return (err as { code?: unknown } | null)?.code === "EPIPE" ? "quiet" : "report";
}

/**
 * Ends the process on an error of `process.stdout` or `process.stderr`, which Node otherwise
 * throws as an unhandled 'error' event with its stack. On EPIPE (the reader went away) it exits
 * with the exit code set so far, else 0, and prints nothing; on another error it prints
 * `render(err)` on stderr (unless stderr is the stream that failed) and exits 1.
 *
 * @example
 * ```ts
 * exitOnOutputError((err) => renderCliError(err, argv.includes("--verbose")));
 * ```
 */
export function exitOnOutputError(render: (err: unknown) => string): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (err: unknown) => {
      if (outputFailure(err) === "quiet") {
        process.exit(typeof process.exitCode === "number" ? process.exitCode : 0);
      }
      if (stream !== process.stderr && !process.stderr.destroyed) process.stderr.write(render(err));
      process.exit(1);
    });
  }
}
