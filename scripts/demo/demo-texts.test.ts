import { expect, test } from 'vitest';
import { sentimentClass } from '../../lib/sentiment/sentiment-class.ts';
import { createVaderScorer } from '../../lib/sentiment/vader.sentiment.ts';
import { BRANDS } from './demo-accounts.ts';
import { rngFor } from './demo-random.ts';
import { commentText, mentionText, type Sentiment } from './demo-texts.ts';

test('the default scorer reads every demo comment and mention as the sentiment it was written with', async () => {
  const rng = rngFor(1, 'demo-texts-test');
  const written: { text: string; sentiment: Sentiment }[] = [];
  for (const brand of BRANDS) {
    for (const sentiment of ['positive', 'neutral', 'negative'] as const) {
      for (const outage of [false, true]) {
        for (let i = 0; i < 100; i++) {
          const text = (i % 2 ? commentText : mentionText)(rng, brand, sentiment, outage);
          written.push({ text, sentiment });
        }
      }
    }
  }
  const scores = await createVaderScorer().score(written.map((w) => w.text));
  const misread = written.filter((w, i) => sentimentClass(scores[i]!) !== w.sentiment);
  expect(misread.slice(0, 5)).toEqual([]);
});
