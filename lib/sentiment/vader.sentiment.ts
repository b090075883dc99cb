// The embedded scorer: VADER (`vader-sentiment`), a lexicon and rules tuned for social text —
// caps, "!!!", "but", negations, slang and emoticons (this JavaScript port has no emoji lexicon).
// Its compound score is already -1..1.
import { createRequire } from 'node:module';
import vader from 'vader-sentiment';
import type { SentimentScorer } from './sentiment.port.ts';

export const VADER_NAME = 'vader';

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
      texts.map((text) => vader.SentimentIntensityAnalyzer.polarity_scores(text).compound),
    close: async () => undefined,
  };
}
