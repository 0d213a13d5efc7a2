/**
 * Pure: the low-cardinality `error.type` of an error: its `TEND_E_...` or Node `code` when it
 * has one, else its class name (`TypeError`), else `_OTHER` (the OpenTelemetry fallback).
 *
 * @example
 * ```ts
 * errorType(new TypeError("x")); // "TypeError"
 * ```
 */
export function errorType(err: unknown): string {
  if (err !== null && typeof err === "object") {
    const code = (err as { code?: unknown }).code;
    if (typeof code === "string" && code !== "") return code;
    const name = (err as { name?: unknown }).name;
    if (typeof name === "string" && name !== "") return name;
  }
  return "_OTHER";
}
