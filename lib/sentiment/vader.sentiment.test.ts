import { createRequire } from 'node:module';
import { describe, expect, test } from 'vitest';
import {
  classRanges,
  scoreInBatches,
  sentimentClass,
  SENTIMENT_THRESHOLDS,
  storedScore,
} from './sentiment-class.ts';
import { sentimentContract } from './sentiment.contract.ts';
import type { SentimentScorer } from './sentiment.port.ts';
import { createEmojiNamer, createVaderScorer, lowerNegations } from './vader.sentiment.ts';

sentimentContract('vader', async () => createVaderScorer());

describe('vader', () => {
  const vader = createVaderScorer();

  test('reports the versions of its packages, as pinned, and of its own rules', () => {
    const require = createRequire(import.meta.url);
    const pinned = (require('../../package.json') as { dependencies: Record<string, string> })
      .dependencies;
    expect(vader.version).toBe(
      `${pinned['vader-sentiment']}+emoji-${pinned['unicode-emoji-json']}.rules-1`,
    );
  });

  test('reads social text: emphasis, negation, "but", emoticons and emoji', async () => {
    const [plain, shouted, negated, butBad, butGood, emoticon, emoji] = await vader.score([
      'the update is good',
      'the update is GOOD!!!',
      'the update is not good',
      'the design is nice but the app is awful',
      'the app is awful but the design is nice',
      'see you tomorrow :(',
      'new colourway 😍',
    ]);
    expect(shouted).toBeGreaterThan(plain ?? NaN);
    expect(sentimentClass(negated ?? NaN)).toBe('negative');
    // What follows "but" weighs more.
    expect(sentimentClass(butBad ?? NaN)).toBe('negative');
    expect(sentimentClass(butGood ?? NaN)).toBe('positive');
    expect(sentimentClass(emoticon ?? NaN)).toBe('negative');
    expect(sentimentClass(emoji ?? NaN)).toBe('positive');
  });
});

test('negations count whatever their case', async () => {
  const vader = createVaderScorer();
  const texts = [
    'Not happy.',
    'The cups keep getting smaller. Not happy.',
    'NOT good',
    'NEVER good',
    "DON'T like it",
    'Didn’t enjoy it',
    'Cant recommend it',
  ];
  const scores = await vader.score(texts);
  scores.forEach((s, i) => expect(sentimentClass(s), texts[i]).toBe('negative'));
  // Words that merely contain a negation keep their case and meaning.
  expect(lowerNegations('NOTHING Notable, a Nothingburger, KNOT')).toBe(
    'nothing Notable, a Nothingburger, KNOT',
  );
});

test('emoji are read by their Unicode names, whatever their skin tone or presentation', async () => {
  const vader = createVaderScorer();
  const name = createEmojiNamer();
  expect(name('ok 😂👍🏽 ❤️ x')).toBe('ok  face with tears of joy  thumbs up   red heart  x');
  expect(name('no emoji at all')).toBe('no emoji at all');
  // A family (ZWJ sequence) is one emoji with one name, not three.
  expect(name('👨‍👩‍👧')).toBe(' family man, woman, girl ');
  const [joy, rage, crying, plain] = await vader.score([
    'the new menu 😂',
    'app down again 😡',
    'my order 😭',
    'the new menu',
  ]);
  expect(sentimentClass(joy ?? NaN)).toBe('positive');
  expect(sentimentClass(rage ?? NaN)).toBe('negative');
  expect(sentimentClass(crying ?? NaN)).toBe('negative');
  expect(plain).toBe(0);
});

describe('sentiment classes', () => {
  test('uses VADER compound thresholds ±0.05, inclusive at the edges', () => {
    expect(SENTIMENT_THRESHOLDS).toEqual({ positive: 0.05, negative: -0.05 });
    expect([0.05, 0.0499, 0, -0.0499, -0.05, 1, -1].map(sentimentClass)).toEqual([
      'positive',
      'neutral',
      'neutral',
      'neutral',
      'negative',
      'positive',
      'negative',
    ]);
  });

  test('class ranges cover exactly the stored scores of their classes', () => {
    const inRanges = (score: number, classes: Parameters<typeof classRanges>[0]) =>
      classRanges(classes).some(
        (r) => (r.min === undefined || score >= r.min) && (r.max === undefined || score <= r.max),
      );
    // Every stored score from -1 to 1 in steps of 0.0001.
    for (let i = -10_000; i <= 10_000; i++) {
      const score = storedScore(i / 10_000);
      const cls = sentimentClass(score);
      expect(inRanges(score, [cls]), `${score}`).toBe(true);
      for (const other of (['positive', 'neutral', 'negative'] as const).filter((c) => c !== cls)) {
        expect(inRanges(score, [other]), `${score} ${other}`).toBe(false);
      }
    }
    expect(classRanges([])).toEqual([]);
  });

  test('stored scores are clamped, rounded to 4 places, and never NaN or -0', () => {
    expect(storedScore(0.123456)).toBe(0.1235);
    expect(storedScore(3)).toBe(1);
    expect(storedScore(-3)).toBe(-1);
    expect(Object.is(storedScore(-0.00001), 0)).toBe(true);
    expect(() => storedScore(NaN)).toThrow(RangeError);
  });

  test('scoreInBatches calls the scorer once per batch and refuses a wrong count', async () => {
    const sizes: number[] = [];
    const counting: SentimentScorer = {
      name: 'counting',
      version: '1',
      score: async (texts) => {
        sizes.push(texts.length);
        return texts.map(() => 0.5);
      },
      close: async () => undefined,
    };
    const texts = Array.from({ length: 150 }, (_, i) => `t${i}`);
    expect(await scoreInBatches(counting, texts, 64)).toHaveLength(150);
    expect(sizes).toEqual([64, 64, 22]);
    const short: SentimentScorer = { ...counting, score: async () => [0] };
    await expect(scoreInBatches(short, ['a', 'b'], 64)).rejects.toThrow(/answered 1 scores for 2/);
    await expect(scoreInBatches(counting, texts, 0)).rejects.toThrow(RangeError);
  });
});
