// Sentiment of short social texts, -1 (negative) to 1 (positive), from the AFINN-165 lexicon.
import Sentiment from 'sentiment';

const analyser = new Sentiment();

/** AFINN's comparative score is about -5..5 per word; a tanh keeps it in -1..1 smoothly. */
export function scoreSentiment(text: string): number {
  const { comparative } = analyser.analyze(text);
  return Math.round(Math.tanh(comparative) * 1000) / 1000;
}
