/**
 * A streaming CSV summary: row count, column names, and the sum of every column whose values are
 * all numbers. RFC 4180 quoting (`"a,b"`, `""` for a quote, newlines inside quotes), LF or CRLF.
 * A malformed file (unterminated quote, a row with the wrong number of fields, no header) throws
 * an error naming the line, so the inbox moves just that file to failed/.
 */

/** The JSON summary written for one CSV file. */
export interface CsvSummary {
  readonly source: string;
  readonly rows: number;
  readonly columns: readonly string[];
  /** Sum per numeric column (every non-empty value a finite number); other columns are absent. */
  readonly sums: Readonly<Record<string, number>>;
}

/** Thrown for a malformed CSV file. */
export class CsvError extends Error {
  readonly line: number;
  constructor(message: string, line: number) {
    super(`${message} (line ${line})`);
    this.name = "CsvError";
    this.line = line;
  }
}

/**
 * Summarizes CSV text arriving in chunks.
 *
 * @example
 * ```ts
 * const summary = await summarizeCsv("orders.csv", createReadStream(path, "utf8"));
 * summary.sums.amount; // 1234.5
 * ```
 */
export async function summarizeCsv(
  source: string,
  chunks: AsyncIterable<string> | Iterable<string>,
): Promise<CsvSummary> {
  let header: string[] | undefined;
  let sums: number[] = [];
  let numeric: boolean[] = [];
  let rows = 0;
  let line = 1;
  let recordLine = 1;
  let field = "";
  let record: string[] = [];
  let inQuotes = false;
  let quoteSeen = false; // just saw a quote inside a quoted field
  let pendingCR = false;
  let any = false;

  const endRecord = () => {
    record.push(field);
    field = "";
    const r = record;
    record = [];
    if (r.length === 1 && r[0] === "") return; // blank line
    if (header === undefined) {
      header = r.map((name) => name.trim());
      sums = header.map(() => 0);
      numeric = header.map(() => true);
      return;
    }
    if (r.length !== header.length) {
      throw new CsvError(`row has ${r.length} fields, the header has ${header.length}`, recordLine);
    }
    rows++;
    for (let i = 0; i < r.length; i++) {
      if (!numeric[i]) continue;
      const text = (r[i] as string).trim();
      if (text === "") continue;
      const value = Number(text);
      if (Number.isFinite(value)) sums[i] = (sums[i] as number) + value;
      else numeric[i] = false;
    }
  };

  for await (const chunk of chunks) {
    for (const ch of chunk) {
      any = true;
      if (pendingCR) {
        pendingCR = false;
        if (ch === "\n") continue;
      }
      if (inQuotes) {
        if (quoteSeen) {
          quoteSeen = false;
          if (ch === '"') {
            field += '"';
            continue;
          }
          inQuotes = false; // the quote closed the field; fall through to handle ch
        } else {
          if (ch === '"') quoteSeen = true;
          else {
            if (ch === "\n") line++;
            field += ch;
          }
          continue;
        }
      }
      if (ch === '"' && field === "") {
        inQuotes = true;
      } else if (ch === ",") {
        record.push(field);
        field = "";
      } else if (ch === "\n" || ch === "\r") {
        if (ch === "\r") pendingCR = true;
        endRecord();
        line++;
        recordLine = line;
      } else if (ch === '"') {
        throw new CsvError("a quote inside an unquoted field", line);
      } else {
        field += ch;
      }
    }
  }
  if (inQuotes && !quoteSeen) throw new CsvError("unterminated quoted field", recordLine);
  if (field !== "" || record.length > 0) endRecord();
  if (!any || header === undefined) throw new CsvError("the file is empty: a header row is required", 1);
  const columns = header;
  const result: Record<string, number> = {};
  columns.forEach((name, i) => {
    if (numeric[i] && rows > 0) result[name] = Math.round((sums[i] as number) * 1e9) / 1e9;
  });
  return { source, rows, columns, sums: result };
}

/**
 * The output name for an input name: its stem plus `.json`, with anything that is not safe in a
 * plain file name replaced by `_`.
 *
 * @example
 * ```ts
 * outputNameFor("orders.csv"); // "orders.json"
 * ```
 */
export function outputNameFor(inputName: string): string {
  const stem = inputName.replace(/\.csv$/i, "");
  // Control characters are exactly what is replaced.
  // eslint-disable-next-line no-control-regex
  const safe = stem.replace(/[\u0000-\u001f\u007f/\\]/g, "_").replace(/^\.+/, "_");
  const trimmed = Buffer.byteLength(safe) > 200 ? `${safe.slice(0, 100)}_` : safe;
  return `${trimmed || "_"}.json`;
}
