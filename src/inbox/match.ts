import { invalidArgument, isArrayValue, isInstance, readOr } from "../errors/index.ts";

/** Which file names an inbox claims: a glob (`"*.csv"`), several globs, a RegExp or a predicate. */
export type MatchOption = string | readonly string[] | RegExp | ((name: string) => boolean);

function escapeRegExp(ch: string): string {
  return /[\\^$.*+?()[\]{}|/-]/.test(ch) ? `\\${ch}` : ch;
}

/**
 * Translates a file-name glob into a RegExp source: `*` any run of characters, `?` one character,
 * `[abc]`/`[!abc]` a set, `{a,b}` alternatives. Globs match whole names; there are no folders.
 *
 * @example
 * ```ts
 * new RegExp(globToRegExpSource("*.{csv,tsv}")).test("a.csv"); // true
 * ```
 */
export function globToRegExpSource(glob: string): string {
  let out = "^";
  let depth = 0;
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i] as string;
    if (ch === "*") out += ".*";
    else if (ch === "?") out += ".";
    else if (ch === "[") {
      const end = glob.indexOf("]", i + 2);
      if (end === -1) {
        out += "\\[";
        continue;
      }
      let body = glob.slice(i + 1, end);
      const negate = body.startsWith("!") || body.startsWith("^");
      if (negate) body = body.slice(1);
      out += `[${negate ? "^" : ""}${body.replace(/[\\\]^]/g, (c) => `\\${c}`)}]`;
      i = end;
    } else if (ch === "{") {
      depth++;
      out += "(?:";
    } else if (ch === "}" && depth > 0) {
      depth--;
      out += ")";
    } else if (ch === "," && depth > 0) out += "|";
    else out += escapeRegExp(ch);
  }
  if (depth > 0) throw new SyntaxError(`unclosed "{" in glob ${JSON.stringify(glob)}`);
  return `${out}$`;
}

/**
 * Builds the name predicate for the `match` option (undefined matches every name). Throws
 * `TEND_E_INBOX_MATCH` for anything else.
 *
 * @example
 * ```ts
 * const isCsv = compileMatch("*.csv");
 * isCsv("orders.csv"); // true
 * ```
 */
export function compileMatch(match: unknown): (name: string) => boolean {
  const expected = 'a glob such as "*.csv", an array of globs, a RegExp or a function (name) => boolean';
  if (match === undefined) return () => true;
  if (typeof match === "function") return (name) => (match as (n: string) => unknown)(name) === true;
  if (isInstance(match, RegExp)) {
    let re: RegExp;
    try {
      re = new RegExp(match.source, match.flags.replace(/[gy]/g, ""));
    } catch {
      // A Proxy of a RegExp: its source and flags cannot be read through it.
      throw invalidArgument("TEND_E_INBOX_MATCH", "match", match, expected);
    }
    return (name) => re.test(name);
  }
  const globs = typeof match === "string" ? [match] : match;
  // An array Proxy whose traps throw is not a list of globs either.
  const valid = readOr(
    () => isArrayValue(globs) && globs.length > 0 && globs.every((g) => typeof g === "string" && g !== ""),
    false,
  );
  if (!valid) throw invalidArgument("TEND_E_INBOX_MATCH", "match", match, expected);
  let res: RegExp[];
  try {
    res = (globs as string[]).map((g) => new RegExp(globToRegExpSource(g)));
  } catch (err) {
    const e = invalidArgument("TEND_E_INBOX_MATCH", "match", match, expected);
    e.cause = err;
    throw e;
  }
  return (name) => res.some((re) => re.test(name));
}
