import { invalidArgument } from "../../errors/index.ts";

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

/**
 * Validates a schema name (lower-case letters, digits, underscores; at most 48 characters so
 * that channel names built from it fit PostgreSQL's 63-byte limit) and returns it.
 *
 * @example
 * ```ts
 * validateSchema("tend"); // "tend"
 * validateSchema("Robert'); DROP"); // throws TEND_E_INVALID_SCHEMA
 * ```
 */
export function validateSchema(schema: unknown): string {
  if (typeof schema !== "string" || !IDENTIFIER.test(schema) || schema.length > 48) {
    throw invalidArgument(
      "TEND_E_INVALID_SCHEMA",
      "PostgreSQL schema",
      schema,
      "a lower-case identifier matching /^[a-z_][a-z0-9_]*$/ of at most 48 characters",
    );
  }
  return schema;
}

/**
 * Quotes an identifier for SQL text (doubling embedded quotes).
 *
 * @example
 * ```ts
 * quoteIdent("tend.jobs"); // "\"tend.jobs\""
 * ```
 */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
