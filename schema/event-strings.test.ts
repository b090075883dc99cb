import { describe, expect, test } from 'vitest';
import { forbiddenCharacter, type StringKind } from './event-strings.ts';

// [character, refused as an id, refused as a label, refused as text]
const TABLE: [string, boolean, boolean, boolean][] = [
  ['\u0000', true, true, true],
  ['\u0001', true, true, false],
  ['\t', true, true, false],
  ['\n', true, true, false],
  ['\u007f', true, true, false],
  ['\u0085', true, true, false],
  [' ', true, false, false],
  ['\u00a0', true, false, false],
  ['\u3000', true, false, false],
  ['\u200b', true, false, false],
  ['\u200d', true, false, false],
  ['\u202e', true, false, false],
  ['\u2066', true, false, false],
  ['\ufeff', true, false, false],
  ['\u{e0041}', true, false, false],
  ['\ufffd', true, false, false],
  ['\ufdd0', true, false, false],
  ['\u{10ffff}', true, false, false],
  ['\ud800', true, true, true],
  ['\udc00', true, true, true],
  ['\udc00\ud800', true, true, true],
  ['🦊', false, false, false],
  ['👩🏽', false, false, false],
  ['账户', false, false, false],
  ['e\u0301', false, false, false],
  ['|/:%\\"\'<', false, false, false],
  ['\ue000', false, false, false],
];
const KINDS: StringKind[] = ['id', 'label', 'text'];

describe('forbiddenCharacter', () => {
  for (const [char, ...refused] of TABLE) {
    const code = [...char].map((c) => c.codePointAt(0)!.toString(16)).join(' ');
    test(`U+${code}`, () => {
      KINDS.forEach((kind, i) => {
        const why = forbiddenCharacter(`ab${char}cd`, kind);
        expect(why !== null, `${kind}: ${why}`).toBe(refused[i]);
        if (why) expect(why).toMatch(/ at position 2/);
      });
    });
  }

  test('names the character and says why', () => {
    expect(forbiddenCharacter('a\u0000', 'id')).toBe(
      'U+0000 (NUL) at position 1: an id holds visible characters only',
    );
    expect(forbiddenCharacter('x\u202e', 'id')).toBe(
      'U+202E (an invisible formatting character) at position 1: an id holds visible characters only',
    );
    expect(forbiddenCharacter('x\ud83d', 'text')).toBe(
      'unpaired surrogate U+D83D at position 1: not Unicode text, no store can hold it',
    );
  });
});
