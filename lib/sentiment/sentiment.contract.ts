// One suite for every sentiment scorer: VADER here, a model server's adapter when one is written.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { scoreInBatches, sentimentClass } from './sentiment-class.ts';
import type { SentimentScorer } from './sentiment.port.ts';

export function sentimentContract(name: string, create: () => Promise<SentimentScorer>): void {
  describe(`sentiment contract: ${name}`, () => {
    let scorer: SentimentScorer;
    beforeAll(async () => {
      scorer = await create();
    });
    afterAll(() => scorer.close());

    test('names itself and its version', () => {
      expect(scorer.name).toMatch(/^[a-z0-9-]+$/);
      expect(scorer.version.length).toBeGreaterThan(0);
    });

    test('classes plain positive, negative and neutral texts as a reader would', async () => {
      const texts = [
        'I love these sneakers, great quality!',
        'Terrible service, the worst app I have ever used.',
        'The parcel arrived on Tuesday.',
      ];
      const scores = await scorer.score(texts);
      expect(scores.map(sentimentClass)).toEqual(['positive', 'negative', 'neutral']);
    });

    test('answers one score in -1..1 per text, in order, for a whole batch', async () => {
      const texts = Array.from({ length: 64 }, (_, i) =>
        i % 2 === 0 ? `great job number ${i}` : `awful failure number ${i}`,
      );
      const scores = await scorer.score(texts);
      expect(scores).toHaveLength(64);
      scores.forEach((s, i) => {
        expect(s).toBeGreaterThanOrEqual(-1);
        expect(s).toBeLessThanOrEqual(1);
        expect(Math.sign(s), texts[i]).toBe(i % 2 === 0 ? 1 : -1);
      });
      expect(await scorer.score([])).toEqual([]);
    });

    test('scores a text the same alone and inside a batch', async () => {
      const [alone] = await scorer.score(['not bad at all']);
      const batch = await scoreInBatches(scorer, ['meh', 'not bad at all', 'ok'], 2);
      expect(batch[1]).toBeCloseTo(alone ?? NaN, 4);
    });
  });
}
