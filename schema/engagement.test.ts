// The SDL describes engagements in words; this keeps the words and the definition in step.
import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { ENGAGEMENTS } from './engagement.ts';

const NAMES: Record<string, string> = {
  facebook: 'Facebook',
  instagram: 'Instagram',
  x: 'X',
  tiktok: 'TikTok',
};

test("ENGAGEMENTS' description in the SDL lists each platform's counters, in order", () => {
  const sdl = readFileSync(new URL('./subgraphs/metrics.graphql', import.meta.url), 'utf8');
  const description =
    /"""\s*([^"]*?)\s*"""\s*ENGAGEMENTS/.exec(sdl)?.[1]?.replace(/\s+/g, ' ') ?? '';
  for (const [platform, name] of Object.entries(NAMES)) {
    const listed = new RegExp(`${name}: ([^.]*)\\.`).exec(description)?.[1] ?? '';
    const words = listed
      .replace(/\([^)]*\)/g, '')
      .split(/,\s*|\s+and\s+/)
      .map((w) => w.trim());
    expect(words, platform).toEqual(ENGAGEMENTS[platform as keyof typeof ENGAGEMENTS]);
  }
});
