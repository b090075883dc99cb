// The embedded scorer: VADER (`vader-sentiment`), a lexicon and rules tuned for social text —
// caps, "!!!", "but", negations, slang and emoticons; its compound score is already -1..1. The
// JavaScript port reads no emoji, so, as Python VADER 3.3 does, each emoji is replaced by its
// Unicode name (`unicode-emoji-json`: 😍 → "smiling face with heart-eyes") before scoring.
import { createRequire } from 'node:module';
import vader from 'vader-sentiment';
import type { SentimentScorer } from './sentiment.port.ts';

export const VADER_NAME = 'vader';

/**
 * VADER's negations. The JavaScript port compares them case-sensitively (the Python original
 * lowercases first), so "Not happy." scored +0.57: they are lowercased before scoring.
 */
const NEGATIONS =
  /\b(?:not|never|none|nothing|nowhere|nope|neither|nor|cannot|without|rarely|seldom|despite|ain['’]?t|(?:are|could|dare|did|does|do|had|has|have|is|might|must|need|ought|sha|should|was|were|wo|would|ca)n['’]?t)\b/giu;

/** The text with its negations in lower case (and a typographic apostrophe made straight). */
export function lowerNegations(text: string): string {
  return text.replace(NEGATIONS, (word) => word.toLowerCase().replace('’', "'"));
}

const require = createRequire(import.meta.url);

/** Bumped when this adapter's own rules (negations, emoji) change what a text scores. */
const RULES_REVISION = 1;

/**
 * What produced a score: the lexicon's package version, the emoji names' version and this
 * adapter's rules, e.g. `1.1.3+emoji-0.9.0.rules-1`, so a re-score finds texts any of them changed.
 */
function scorerVersion(): string {
  const version = (name: string) =>
    (require(`${name}/package.json`) as { version: string }).version;
  return `${version('vader-sentiment')}+emoji-${version('unicode-emoji-json')}.rules-${RULES_REVISION}`;
}

/** Skin tones and the emoji presentation selector: 👍🏽 and ❤️ are named as 👍 and ❤. */
const EMOJI_MODIFIERS = /[\u{1F3FB}-\u{1F3FF}]|\u{FE0F}/gu;
const PICTOGRAPHIC = /\p{Extended_Pictographic}/u;

/** Replaces each emoji by its name, so the lexicon reads "smiling", "joy", "crying", "enraged". */
export function createEmojiNamer(): (text: string) => string {
  const data = require('unicode-emoji-json/data-by-emoji.json') as Record<string, { name: string }>;
  const names = new Map<string, string>();
  for (const [emoji, { name }] of Object.entries(data)) {
    names.set(emoji.replace(EMOJI_MODIFIERS, ''), name);
  }
  const graphemes = new Intl.Segmenter('en', { granularity: 'grapheme' });
  return (text) => {
    if (!PICTOGRAPHIC.test(text)) return text;
    let out = '';
    for (const { segment } of graphemes.segment(text)) {
      const name = PICTOGRAPHIC.test(segment)
        ? names.get(segment.replace(EMOJI_MODIFIERS, ''))
        : undefined;
      out += name === undefined ? segment : ` ${name} `;
    }
    return out;
  };
}

export function createVaderScorer(): SentimentScorer {
  const nameEmoji = createEmojiNamer();
  return {
    name: VADER_NAME,
    version: scorerVersion(),
    // Synchronous, about 0.1 ms a text on our 2-core machines: a batch of 64 is scored in one go.
    score: async (texts) =>
      texts.map(
        (text) =>
          vader.SentimentIntensityAnalyzer.polarity_scores(lowerNegations(nameEmoji(text)))
            .compound,
      ),
    close: async () => undefined,
  };
}
