// Sentiment scoring of texts, in batches. Embedded: VADER (`vader.sentiment.ts`). A model server
// (e.g. a DistilBERT behind an inference server) is one more adapter of this interface: async and
// batched, so one round trip scores a whole batch. Adapters pass `sentiment.contract.ts`.

/** Who scored a text, stored beside every score so a re-score can find what an older scorer did. */
export interface ScorerIdentity {
  /** e.g. `vader`. */
  name: string;
  /** Changes whenever the same text may score differently, e.g. `1.1.3+emoji-0.9.0.rules-1`. */
  version: string;
}

export interface SentimentScorer extends ScorerIdentity {
  /**
   * One score per text, in the order given: -1 (most negative) … 0 (neutral) … 1 (most positive).
   * Rejects when the batch as a whole could not be scored (a model server that is down: a
   * `StoreUnavailableError`, so the pipeline waits instead of dead-lettering).
   */
  score(texts: readonly string[]): Promise<number[]>;
  close(): Promise<void>;
}
