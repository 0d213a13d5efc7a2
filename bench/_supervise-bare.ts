/** The bare baseline of bench/supervise.ts: a Node process that says "ready" over IPC and nothing else. */
process.send?.({ ready: 1 });
process.on("disconnect", () => process.exit(0));
