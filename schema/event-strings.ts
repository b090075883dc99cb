// What the strings of an event may hold. Every store downstream (PostgreSQL, ClickHouse, Kafka,
// Redis, Elasticsearch) must keep a value exactly as sent, so the envelope refuses at the door
// what one of them would refuse or silently alter, and what makes an id ambiguous to a reader.
//
// - Every string must be well-formed Unicode: an unpaired surrogate has no UTF-8 form, so a
//   store either refuses it or replaces it with U+FFFD, merging distinct values.
// - `text` (post content, comment text, property values): anything else but NUL, which
//   PostgreSQL refuses (`invalid byte sequence for encoding "UTF8": 0x00`) and C tools truncate at.
//   Tabs, newlines and other controls are content, and kept.
// - `label` (handles, display names, event names, property and bucket keys, URLs): no control
//   character at all (U+0000–U+001F, U+007F–U+009F): a name is one line of visible text.
// - `id`: visible characters only. Besides the controls: no whitespace, no invisible formatting
//   (zero-width and bidirectional controls, soft hyphen, BOM, tag characters), no noncharacters
//   and no U+FFFD, which is left where a decoder lost the original bytes. Two ids that look the
//   same are then the same string. Any other character is allowed (letters of every script,
//   emoji, punctuation including `|`, `/`, `:`), so platform and producer ids pass unchanged.
// The code points are listed here rather than taken from Unicode categories, so the rule does
// not move with the Unicode version of whichever runtime a producer or consumer runs.

export type StringKind = 'id' | 'label' | 'text';

// Inside a `u` class, \ud800-\udfff matches only surrogates that are not part of a pair.
const LONE_SURROGATE = '\\ud800-\\udfff';
const CONTROLS = '\\u0000-\\u001f\\u007f-\\u009f';
const WHITESPACE = ' \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const INVISIBLE =
  '\\u00ad\\u061c\\u180e\\u200b-\\u200f\\u202a-\\u202e\\u2060-\\u206f\\ufeff\\ufff9-\\ufffb' +
  '\\u{1bca0}-\\u{1bca3}\\u{1d173}-\\u{1d17a}\\u{e0000}-\\u{e007f}';
const NONCHARACTERS =
  '\\ufdd0-\\ufdef' +
  Array.from({ length: 17 }, (_, plane) => {
    const base = (plane * 0x10000 + 0xfffe).toString(16);
    return `\\u{${base}}\\u{${(plane * 0x10000 + 0xffff).toString(16)}}`;
  }).join('');
const REPLACEMENT = '\\ufffd';

const FORBIDDEN: Record<StringKind, RegExp> = {
  text: new RegExp(`[\\u0000${LONE_SURROGATE}]`, 'u'),
  label: new RegExp(`[${CONTROLS}${LONE_SURROGATE}]`, 'u'),
  id: new RegExp(
    `[${CONTROLS}${WHITESPACE}${INVISIBLE}${NONCHARACTERS}${REPLACEMENT}${LONE_SURROGATE}]`,
    'u',
  ),
};

const IS_WHITESPACE = new RegExp(`[${WHITESPACE}]`, 'u');
const IS_NONCHARACTER = new RegExp(`[${NONCHARACTERS}]`, 'u');

const WHAT: Record<StringKind, string> = {
  id: 'an id holds visible characters only',
  label: 'a name holds no control characters',
  text: 'text holds no NUL',
};

/**
 * Why `value` cannot be a string of `kind`, naming the first character at fault and where it is
 * (in UTF-16 code units, as JavaScript counts); null when it can.
 */
export function forbiddenCharacter(value: string, kind: StringKind): string | null {
  const match = FORBIDDEN[kind].exec(value);
  if (!match) return null;
  const cp = match[0].codePointAt(0)!;
  const code = `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  const at = `at position ${match.index}`;
  if (cp >= 0xd800 && cp <= 0xdfff) {
    return `unpaired surrogate ${code} ${at}: not Unicode text, no store can hold it`;
  }
  return `${code} (${nameOf(cp)}) ${at}: ${WHAT[kind]}`;
}

function nameOf(cp: number): string {
  if (cp === 0) return 'NUL';
  if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) return 'a control character';
  if (IS_WHITESPACE.test(String.fromCodePoint(cp))) return 'whitespace';
  if (cp === 0xfffd) return 'the replacement character, left where a decoder lost the original';
  if (IS_NONCHARACTER.test(String.fromCodePoint(cp))) return 'a noncharacter';
  return 'an invisible formatting character';
}
