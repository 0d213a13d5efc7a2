/**
 * The input files of the inbox scenario and their check: a file is `BEGIN <name> <lines>`, that
 * many body lines, then `END <sha256 of the body>`; a reader can tell a complete file from a part.
 */
import { createHash } from "node:crypto";

/** The body lines of file `name` (deterministic: the same name gives the same content). */
export function bodyOf(name: string, lines: number): string {
  let body = "";
  for (let i = 0; i < lines; i++) body += `${name} line ${i} ${"x".repeat((i * 7) % 40)}\n`;
  return body;
}

/** The whole content of file `name`, as its writer writes it. */
export function contentOf(name: string, lines: number): string {
  const body = bodyOf(name, lines);
  return `BEGIN ${name} ${lines}\n${body}END ${sha256(body)}\n`;
}

export function sha256(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Checks a file's content; returns null when complete, else what is wrong. */
export function checkContent(text: string): { name: string; lines: number } | string {
  const first = text.indexOf("\n");
  const header = /^BEGIN (\S+) (\d+)$/.exec(text.slice(0, first));
  if (header === null) return `no BEGIN header (${text.length} bytes)`;
  const endAt = text.lastIndexOf("END ");
  if (endAt < 0 || !text.endsWith("\n")) return `no END line (${text.length} bytes): a partial file`;
  const body = text.slice(first + 1, endAt);
  const expected = text.slice(endAt + 4, -1);
  if (sha256(body) !== expected)
    return `body checksum mismatch (${text.length} bytes): a partial or mixed file`;
  const lines = Number(header[2]);
  if (body.split("\n").length - 1 !== lines)
    return `expected ${lines} lines, found ${body.split("\n").length - 1}`;
  return { name: header[1]!, lines };
}
