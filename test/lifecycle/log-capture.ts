import { Writable } from "node:stream";
import { type Logger, pino } from "pino";

/** A real pino logger writing JSON lines into memory, so tests can assert what was logged. */
export function captureLog(): { log: Logger; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString("utf8"));
      callback();
    },
  });
  const log = pino({ level: "debug", serializers: { err: pino.stdSerializers.errWithCause } }, stream);
  const lines = () =>
    chunks
      .join("")
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { log, lines };
}
