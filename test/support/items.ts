import type { ConvergerDefinition } from "../../src/converge/index.ts";

/**
 * A converger over the test table `item (id, desired, actual)`: makes `actual` equal `desired`
 * and returns the rows it changed.
 */
export function itemConverger(name: string, extra: Partial<ConvergerDefinition> = {}): ConvergerDefinition {
  return {
    name,
    find: async (ctx) =>
      (await ctx.sql("SELECT id FROM item WHERE actual IS DISTINCT FROM desired ORDER BY id")).map((r) =>
        Number(r["id"]),
      ),
    converge: async (key, ctx) => {
      const rows = await ctx.sql(
        "UPDATE item SET actual = desired WHERE id = $1 AND actual IS DISTINCT FROM desired RETURNING id, actual",
        [key],
      );
      return { changed: rows.map((r) => ({ id: Number(r["id"]), actual: r["actual"] })) };
    },
    ...extra,
  };
}
