// The one rule that turns a score into a class, for the pipeline, the stores, the search
// adapters and the API alike.
import type { SentimentScorer } from './sentiment.port.ts';

export type SentimentClass = 'positive' | 'neutral' | 'negative';
export const SENTIMENT_CLASSES: readonly SentimentClass[] = ['positive', 'neutral', 'negative'];

/**
 * VADER's conventional thresholds on its compound score: ≥ 0.05 is positive, ≤ -0.05 negative,
 * anything between neutral. Other scorers are mapped onto -1..1 so the same thresholds apply.
 */
export const SENTIMENT_THRESHOLDS = { positive: 0.05, negative: -0.05 } as const;

/** Decimal places a stored score keeps: no score then lies within float error of a threshold. */
export const SCORE_DECIMALS = 4;

export function sentimentClass(score: number): SentimentClass {
  if (score >= SENTIMENT_THRESHOLDS.positive) return 'positive';
  if (score <= SENTIMENT_THRESHOLDS.negative) return 'negative';
  return 'neutral';
}

/** A score range: both bounds inclusive, either open. */
export interface ScoreRange {
  min?: number;
  max?: number;
}

/**
 * The score ranges of a set of classes; a text of any of these classes lies in one of them.
 * Neutral's bounds are exclusive: the ±0.0001 step of stored scores makes them inclusive here.
 */
export function classRanges(classes: readonly SentimentClass[]): ScoreRange[] {
  const step = 10 ** -SCORE_DECIMALS;
  const ranges: Record<SentimentClass, ScoreRange> = {
    positive: { min: SENTIMENT_THRESHOLDS.positive },
    neutral: {
      min: round(SENTIMENT_THRESHOLDS.negative + step),
      max: round(SENTIMENT_THRESHOLDS.positive - step),
    },
    negative: { max: SENTIMENT_THRESHOLDS.negative },
  };
  return SENTIMENT_CLASSES.filter((c) => classes.includes(c)).map((c) => ranges[c]);
}

function round(score: number): number {
  const f = 10 ** SCORE_DECIMALS;
  return Math.round(score * f) / f;
}

/** What a stored score is: within -1..1, rounded to SCORE_DECIMALS; a NaN is refused. */
export function storedScore(score: number): number {
  if (!Number.isFinite(score)) throw new RangeError(`a sentiment score must be finite: ${score}`);
  return round(Math.max(-1, Math.min(1, score))) || 0;
}

/**
 * Scores texts in batches of `batchSize` (one scorer call each), as stored scores. A scorer
 * answering the wrong number of scores is a bug in it, not in the texts: the call rejects.
 */
export async function scoreInBatches(
  scorer: SentimentScorer,
  texts: readonly string[],
  batchSize: number,
): Promise<number[]> {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  }
  const scores: number[] = [];
  for (let i = 0; i < texts.length; i += batchSize) {
    const batch = texts.slice(i, i + batchSize);
    const answered = await scorer.score(batch);
    if (answered.length !== batch.length) {
      throw new Error(
        `scorer ${scorer.name} ${scorer.version} answered ${answered.length} scores for ${batch.length} texts`,
      );
    }
    scores.push(...answered.map(storedScore));
  }
  return scores;
}
