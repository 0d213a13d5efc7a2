import { createHash } from "node:crypto";
import { describeValue, TendError } from "../errors/index.ts";

/** Longest file name (in UTF-8 bytes) that common Linux filesystems accept. */
export const MAX_NAME_BYTES = 255;

const TEMPORARY_SUFFIXES = [".tmp", ".temp", ".part", ".partial", ".crdownload", ".swp", "~"];

/**
 * True for names a producer uses while a file is still being written, which the inbox never claims:
 * dot files (`.name`, `.#name`), editor and download leftovers (`*.tmp`, `*.part`, `*~`, `#name#`).
 *
 * @example
 * ```ts
 * isTemporaryName(".orders.csv"); // true
 * isTemporaryName("orders.csv.part"); // true
 * isTemporaryName("orders.csv"); // false
 * ```
 */
export function isTemporaryName(name: string): boolean {
  if (name.startsWith(".")) return true;
  if (name.startsWith("#") && name.endsWith("#")) return true;
  const lower = name.toLowerCase();
  return TEMPORARY_SUFFIXES.some((suffix) => lower.endsWith(suffix));
}

/** True when `text` holds a C0 control character or DEL (newline, tab, escape...). */
export function hasControlCharacters(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/**
 * Checks a name given to `ctx.writeOutput()`: it must be one plain, visible file name, never a
 * path. Throws `TEND_E_INBOX_OUTPUT_NAME` naming the problem otherwise.
 *
 * @example
 * ```ts
 * assertOutputName("orders.json"); // ok
 * assertOutputName("../etc/passwd"); // throws TendError TEND_E_INBOX_OUTPUT_NAME
 * ```
 */
export function assertOutputName(name: unknown): asserts name is string {
  const problem = outputNameProblem(name);
  if (problem !== undefined) {
    throw new TendError(
      "TEND_E_INBOX_OUTPUT_NAME",
      `writeOutput() refused the name ${describeValue(name)}: ${problem}. Pass a plain file name such as "result.json"; derive it from the input name only after removing slashes and control characters.`,
      { details: { name, problem } },
    );
  }
}

/**
 * Why `name` is not acceptable as an output name, or undefined when it is.
 *
 * @example
 * ```ts
 * outputNameProblem("a/b.json"); // "it contains a path separator"
 * outputNameProblem("b.json"); // undefined
 * ```
 */
export function outputNameProblem(name: unknown): string | undefined {
  if (typeof name !== "string") return "it is not a string";
  if (name === "") return "it is empty";
  if (name === "." || name === "..") return "it names a folder";
  if (name.startsWith(".")) return "it starts with a dot (dot names are reserved for temporary files)";
  if (name.includes("/") || name.includes("\\")) return "it contains a path separator";
  if (hasControlCharacters(name)) return "it contains control characters";
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) return `it is longer than ${MAX_NAME_BYTES} bytes`;
  return undefined;
}

function shortHash(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 10);
}

function truncateToBytes(text: string, maxBytes: number): string {
  let out = "";
  let bytes = 0;
  for (const ch of text) {
    const size = Buffer.byteLength(ch);
    if (bytes + size > maxBytes) break;
    out += ch;
    bytes += size;
  }
  return out;
}

/**
 * Returns `name + suffix` if it fits in {@link MAX_NAME_BYTES}; otherwise shortens `name` and adds a
 * short hash of it, so that distinct long names stay distinct.
 *
 * @example
 * ```ts
 * fitName("orders.csv", ".error.json"); // "orders.csv.error.json"
 * ```
 */
export function fitName(name: string, suffix = "", maxBytes = MAX_NAME_BYTES): string {
  if (Buffer.byteLength(name) + Buffer.byteLength(suffix) <= maxBytes) return name + suffix;
  const tag = `~${shortHash(name)}`;
  const room = maxBytes - Buffer.byteLength(suffix) - Buffer.byteLength(tag);
  return truncateToBytes(name, Math.max(0, room)) + tag + suffix;
}

/**
 * The n-th alternative of `name` used when `name` is taken in done/ or failed/: `~n` goes before the
 * extension (`orders.csv` becomes `orders~1.csv`). `n = 0` returns the name itself.
 *
 * @example
 * ```ts
 * variantName("orders.csv", 2); // "orders~2.csv"
 * ```
 */
export function variantName(name: string, n: number): string {
  if (n === 0) return name;
  const dot = name.lastIndexOf(".");
  const hasExt = dot > 0 && dot < name.length - 1 && name.length - dot <= 16;
  const stem = hasExt ? name.slice(0, dot) : name;
  const ext = hasExt ? name.slice(dot) : "";
  const tag = `~${n}${ext}`;
  return fitName(stem, tag);
}

/** How many variants of a name are tried (`name`, `name~1`, ... `name~9999`) before giving up. */
const MAX_VARIANTS = 10_000;

/**
 * The names `name` may take in done/ or failed/, in the order they are tried: `name` itself, then
 * its variants `name~1`, `name~2`... (see {@link variantName}), at most {@link MAX_VARIANTS}.
 *
 * @example
 * ```ts
 * for (const candidate of variantNames("orders.csv")) if (await isFree(candidate)) break;
 * ```
 */
export function* variantNames(name: string): Generator<string> {
  for (let n = 0; n < MAX_VARIANTS; n++) yield variantName(name, n);
}

/**
 * The decoded form of a raw directory entry name, or undefined when the bytes are not valid UTF-8
 * (such a name cannot be reached through a string path).
 */
export function decodeName(raw: Buffer): string | undefined {
  const text = raw.toString("utf8");
  return Buffer.from(text, "utf8").equals(raw) ? text : undefined;
}

/** A safe, stable stand-in name for an entry whose raw name is not valid UTF-8. */
export function undecodableStandIn(raw: Buffer): string {
  return `undecodable-name~${createHash("sha256").update(raw).digest("hex").slice(0, 16)}`;
}
