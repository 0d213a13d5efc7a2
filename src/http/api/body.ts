import type { IncomingMessage } from "node:http";
import { invalidArgument, TendError } from "../../errors/index.ts";

/** The largest request body the admin API reads (a payload's own limit is checked by enqueue). */
export const MAX_BODY_BYTES = 2 * 1024 * 1024;

/**
 * Reads a request's body as a JSON object (an empty body is `{}`). Throws
 * TEND_E_ADMIN_BAD_REQUEST when it is larger than MAX_BODY_BYTES, not JSON, or not an object.
 *
 * @example
 * ```ts
 * const body = await readJsonObject(req); // { kind: "email.send", payload: {...} }
 * ```
 */
export async function readJsonObject(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      throw new TendError(
        "TEND_E_ADMIN_BAD_REQUEST",
        `The request body is larger than ${MAX_BODY_BYTES} bytes.`,
        { details: { maxBytes: MAX_BODY_BYTES } },
      );
    }
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.trim() === "") return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new TendError(
      "TEND_E_ADMIN_BAD_REQUEST",
      `The request body is not JSON: ${(err as Error).message}`,
    );
  }
  if (value === null || typeof value !== "object" || Array.isArray(value))
    throw invalidArgument("TEND_E_ADMIN_BAD_REQUEST", "request body", value, "a JSON object");
  return value as Record<string, unknown>;
}
