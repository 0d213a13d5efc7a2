import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatInconsistency } from "../../src/cli/commands/inconsistencies.ts";
import { displayWidth, padToWidth } from "../../src/cli/display-width.ts";
import { renderTable } from "../../src/cli/table.ts";
import { visibleText } from "../../src/cli/visible-text.ts";

describe("displayWidth: the terminal columns of a text", () => {
  it("counts printable ASCII 1 a character, and nothing for the empty text", () => {
    assert.equal(displayWidth(""), 0);
    assert.equal(displayWidth("billing-sync 42"), 15);
  });

  it("counts East Asian wide and fullwidth characters 2", () => {
    assert.equal(displayWidth("日本語"), 6); // CJK ideographs
    assert.equal(displayWidth("かタ"), 4); // hiragana, katakana
    assert.equal(displayWidth("한국"), 4); // Hangul syllables
    assert.equal(displayWidth("ＡＢ"), 4); // fullwidth Latin
    assert.equal(displayWidth("\u3000"), 2); // ideographic space
    assert.equal(displayWidth("𠀀"), 2); // CJK Extension B, outside the BMP
    assert.equal(displayWidth("ｱ"), 1); // halfwidth katakana stays 1
    assert.equal(displayWidth("é"), 1);
  });

  it("counts combining marks 0: a letter with its accents takes one column", () => {
    assert.equal(displayWidth("e\u0301"), 1);
    assert.equal(displayWidth("a\u0300\u0316b"), 2);
    assert.equal(displayWidth("\u0301"), 0); // a mark alone
    assert.equal(displayWidth("\u1112\u1161\u11ab"), 2); // a Hangul syllable from its Jamo
  });

  it("counts invisible format and control characters 0", () => {
    assert.equal(displayWidth("a\u200bb"), 2); // zero width space
    assert.equal(displayWidth("a\u200db"), 2); // zero width joiner
    assert.equal(displayWidth("\u0007"), 0);
  });

  it("counts an emoji shown as a picture 2, with its modifiers and sequences as one", () => {
    assert.equal(displayWidth("👍"), 2);
    assert.equal(displayWidth("👍🏽"), 2); // with a skin tone
    assert.equal(displayWidth("👨‍👩‍👧"), 2); // a ZWJ sequence
    assert.equal(displayWidth("🇫🇷"), 2); // a flag
    assert.equal(displayWidth("❤️"), 2); // text-style heart with VARIATION SELECTOR-16
    assert.equal(displayWidth("❤"), 1); // without it, shown as text
  });

  it("padToWidth pads to columns, not UTF-16 units", () => {
    assert.equal(padToWidth("日本", 6), "日本  ");
    assert.equal(padToWidth("e\u0301", 3), "e\u0301  ");
    assert.equal(padToWidth("abcdef", 3), "abcdef");
  });
});

describe("visibleText: control characters as visible escapes", () => {
  it("shows \\n, \\r and \\t by name and other C0, DEL, C1, U+2028/9 and bidi controls as \\u....", () => {
    assert.equal(visibleText("a\nb\r\nc\td"), "a\\nb\\r\\nc\\td");
    assert.equal(
      visibleText("\u0000\u001b[31m\u007f\u0085\u009f"),
      "\\u0000\\u001b[31m\\u007f\\u0085\\u009f",
    );
    assert.equal(visibleText("x\u2028y\u2029z"), "x\\u2028y\\u2029z");
    assert.equal(visibleText("a\u202eb\u2066c"), "a\\u202eb\\u2066c");
  });

  it("leaves printable text, non-ASCII letters and a backslash as they are", () => {
    for (const text of ["plain", "日本語 é ü", "C:\\Users\\x", "👍"]) assert.equal(visibleText(text), text);
  });
});

describe("renderTable and formatInconsistency: one line a row, aligned columns", () => {
  it("keeps a cell with line breaks and tabs on its row, escaped", () => {
    const out = renderTable(
      ["id", "error", "at"],
      [
        [1, "first line\nsecond\r\nthird\tend", "x"],
        [2, "ok", "y"],
      ],
    );
    assert.deepEqual(out.split("\n"), [
      "id  error                             at",
      "--  --------------------------------  --",
      "1   first line\\nsecond\\r\\nthird\\tend  x",
      "2   ok                                y",
    ]);
  });

  it("aligns columns after wide characters and combining marks", () => {
    const out = renderTable(
      ["key", "next"],
      [
        ["日本語", "a"],
        ["e\u0301te\u0301", "b"],
        ["plain", "c"],
      ],
    );
    const lines = out.split("\n");
    assert.equal(lines.length, 5);
    const column = (line: string, cell: string) => displayWidth(line.slice(0, line.lastIndexOf(cell)));
    assert.equal(column(lines[0] ?? "", "next"), 8);
    for (const [i, cell] of [
      [2, "a"],
      [3, "b"],
      [4, "c"],
    ] as const)
      assert.equal(column(lines[i] ?? "", cell), 8, lines[i]);
  });

  it("formatInconsistency keeps a key with a line break on one line", () => {
    const line = formatInconsistency({
      id: "1",
      converger: "sync",
      key: "multi\nline key",
      changes: { note: "a\u2028b" },
      at: new Date("2026-01-01T00:00:00Z"),
      holder: null,
      epoch: null,
    });
    assert.equal(line, '2026-01-01T00:00:00.000Z  sync  multi\\nline key  {"note":"a\\u2028b"}');
  });
});
