/**
 * The columns a text takes in a terminal, for aligning the CLI's tables: a character a person
 * sees as one (a grapheme cluster: a letter with its combining marks, an emoji sequence, a flag)
 * takes 2 columns when it is East Asian wide or fullwidth (CJK ideographs, kana, Hangul syllables,
 * fullwidth forms) or an emoji shown as a picture, 0 when it is only marks or invisible format or
 * control characters, else 1.
 */

/** The ranges of East Asian Width W and F (Unicode 16), without emoji (read by property below). */
const WIDE_RANGES: ReadonlyArray<readonly [number, number]> = [
  [0x1100, 0x115f], // Hangul Jamo initial consonants
  [0x2329, 0x232a], // angle brackets
  [0x2e80, 0x303e], // CJK radicals, Kangxi radicals, ideographic description, CJK symbols and punctuation
  [0x3041, 0x3247], // Hiragana, Katakana, Bopomofo, Hangul compatibility Jamo, Kanbun, CJK strokes, enclosed
  [0x3250, 0x4dbf], // enclosed CJK, CJK compatibility, CJK Extension A
  [0x4e00, 0xa4cf], // CJK unified ideographs, Yi
  [0xa960, 0xa97f], // Hangul Jamo extended-A
  [0xac00, 0xd7a3], // Hangul syllables
  [0xf900, 0xfaff], // CJK compatibility ideographs
  [0xfe10, 0xfe19], // vertical forms
  [0xfe30, 0xfe6f], // CJK compatibility forms, small form variants
  [0xff00, 0xff60], // fullwidth forms
  [0xffe0, 0xffe6], // fullwidth signs
  [0x16fe0, 0x16fe4], // ideographic symbols
  [0x16ff0, 0x16ff1],
  [0x17000, 0x18cff], // Tangut, Khitan
  [0x18d00, 0x18d08],
  [0x1aff0, 0x1b2ff], // Kana extended and supplement, small kana, Nushu
  [0x1f200, 0x1f2ff], // enclosed ideographic supplement
  [0x20000, 0x2fffd], // CJK Extensions B to F, compatibility supplement
  [0x30000, 0x3fffd], // CJK Extensions G and H
];

const EMOJI_PRESENTATION = /^\p{Emoji_Presentation}$/u;
const EMOJI = /^\p{Emoji}$/u;
/** Combining and enclosing marks, format characters (ZWJ, ZWSP, bidi marks) and controls. */
const ZERO_WIDTH = /^[\p{Mn}\p{Me}\p{Cf}\p{Cc}]$/u;
/** Hangul Jamo vowels and final consonants: they join the syllable begun before them. */
const JAMO_MEDIAL_FINAL: readonly [number, number] = [0x1160, 0x11ff];
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

let segmenter: Intl.Segmenter | undefined;

function isWide(codePoint: number): boolean {
  let low = 0;
  let high = WIDE_RANGES.length - 1;
  while (low <= high) {
    const mid = (low + high) >> 1;
    const [from, to] = WIDE_RANGES[mid] as readonly [number, number];
    if (codePoint < from) high = mid - 1;
    else if (codePoint > to) low = mid + 1;
    else return true;
  }
  return false;
}

/** Pure: the columns of one grapheme cluster (0, 1 or 2). */
function clusterWidth(cluster: string): number {
  const codePoint = cluster.codePointAt(0) ?? 0;
  const first = String.fromCodePoint(codePoint);
  if (ZERO_WIDTH.test(first)) return 0;
  if (codePoint >= JAMO_MEDIAL_FINAL[0] && codePoint <= JAMO_MEDIAL_FINAL[1]) return 0;
  if (isWide(codePoint) || EMOJI_PRESENTATION.test(first)) return 2;
  // A text-style emoji (❤) followed by VARIATION SELECTOR-16 is shown as a picture.
  if (cluster.includes("\uFE0F") && EMOJI.test(first)) return 2;
  return 1;
}

/**
 * Pure: the number of terminal columns `text` takes: East Asian wide and fullwidth characters and
 * emoji count 2, combining marks and invisible format or control characters 0, others 1.
 *
 * @example
 * ```ts
 * displayWidth("abc"); // 3
 * displayWidth("日本"); // 4
 * displayWidth("e\u0301"); // 1 (e and a combining acute accent)
 * ```
 */
export function displayWidth(text: string): number {
  if (PRINTABLE_ASCII.test(text)) return text.length;
  segmenter ??= new Intl.Segmenter("en", { granularity: "grapheme" });
  let width = 0;
  for (const { segment } of segmenter.segment(text)) width += clusterWidth(segment);
  return width;
}

/**
 * Pure: `text` followed by spaces up to `width` columns (as `padEnd`, counting columns with
 * {@link displayWidth}); a text already as wide or wider is returned as it is.
 *
 * @example
 * ```ts
 * padToWidth("日本", 6); // "日本  "
 * ```
 */
export function padToWidth(text: string, width: number): string {
  const missing = width - displayWidth(text);
  return missing > 0 ? text + " ".repeat(missing) : text;
}
