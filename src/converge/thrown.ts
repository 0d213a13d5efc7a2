import { describeValue, isInstance, readOr } from "../errors/index.ts";

/**
 * Pure and total: a one-line message for anything a `converge` call threw, for logs and the
 * record of a terminal failure. An Error gives its message (its name when the message is empty),
 * a string itself, and anything else (`null`, a number, a plain or null-prototype object, a
 * Symbol, a Proxy, an Error whose `message` getter throws) its description by `describeValue`.
 * Never throws, whatever it is given.
 *
 * @example
 * ```ts
 * thrownMessage(new Error("boom")); // "boom"
 * thrownMessage(Object.assign(Object.create(null), { code: "E_X" })); // '{"code":"E_X"}'
 * thrownMessage(null); // "null"
 * ```
 */
export function thrownMessage(thrown: unknown): string {
  if (typeof thrown === "string") return thrown;
  if (isInstance(thrown, Error)) {
    const text = readOr(() => {
      const message: unknown = thrown.message;
      if (typeof message === "string" && message.length > 0) return message;
      const name: unknown = thrown.name;
      return typeof name === "string" && name.length > 0 ? name : null;
    }, null);
    if (text !== null) return text;
  }
  return describeValue(thrown);
}
