// Sentiment of a text on -1..1 from the AFINN-165 word list (the `sentiment` package).
import Sentiment from 'sentiment';

/** Scores a text: -1 (negative) … 0 (neutral or unknown words) … 1 (positive). */
export type SentimentScorer = (text: string) => number;

/**
 * AFINN sums word scores (-5..5 each), so the raw score grows with length. x / √(x² + α) maps it
 * onto -1..1 smoothly, as VADER does with α = 15: one "great" (+3) gives 0.61, "love"+"great" 0.84.
 */
const ALPHA = 15;

export function createSentimentScorer(): SentimentScorer {
  const analyser = new Sentiment();
  return (text) => {
    const { score } = analyser.analyze(text);
    if (score === 0) return 0;
    return score / Math.sqrt(score * score + ALPHA);
  };
}
