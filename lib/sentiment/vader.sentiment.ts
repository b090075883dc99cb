// The embedded scorer: VADER (`vader-sentiment`), a lexicon and rules tuned for social text —
// caps, "!!!", "but", negations, slang and emoticons (this JavaScript port has no emoji lexicon).
// Its compound score is already -1..1.
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

/** The installed package's version, so a score says which lexicon produced it. */
function installedVersion(): string {
  const pkg = createRequire(import.meta.url)('vader-sentiment/package.json') as { version: string };
  return pkg.version;
}

export function createVaderScorer(): SentimentScorer {
  return {
    name: VADER_NAME,
    version: installedVersion(),
    // Synchronous, under 0.1 ms a text here: a batch of 64 is scored in one go.
    score: async (texts) =>
      texts.map(
        (text) => vader.SentimentIntensityAnalyzer.polarity_scores(lowerNegations(text)).compound,
      ),
    close: async () => undefined,
  };
}
