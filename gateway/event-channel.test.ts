import { describe, expect, test } from 'vitest';
import { EventChannel } from './event-channel.ts';

function channel() {
  let closes = 0;
  const c = new EventChannel<{ n: number }>();
  c.onClose(() => (closes += 1));
  return { c, closes: () => closes };
}

describe('EventChannel', () => {
  test('delivers pushed values in order, to a waiting reader too', async () => {
    const { c } = channel();
    const waiting = c.next();
    c.push({ n: 1 });
    c.push({ n: 2 });
    expect(await waiting).toEqual({ value: { n: 1 }, done: false });
    expect(await c.next()).toEqual({ value: { n: 2 }, done: false });
  });

  test('return() settles a waiting next() at once and closes once', async () => {
    const { c, closes } = channel();
    const waiting = c.next();
    await c.return();
    expect(await waiting).toEqual({ value: undefined, done: true });
    await c.return();
    expect(closes()).toBe(1);
    c.push({ n: 1 });
    expect(await c.next()).toEqual({ value: undefined, done: true });
  });

  test('end() still delivers what is queued, then closes', async () => {
    const { c, closes } = channel();
    c.push({ n: 1 });
    c.end();
    expect(closes()).toBe(0);
    expect(await c.next()).toEqual({ value: { n: 1 }, done: false });
    expect(closes()).toBe(1);
    expect(await c.next()).toEqual({ value: undefined, done: true });
  });

  test('endWith() drops the backlog for one last value', async () => {
    const { c } = channel();
    c.push({ n: 1 });
    c.push({ n: 2 });
    c.endWith({ n: -1 });
    const seen: number[] = [];
    for await (const v of c) seen.push(v.n);
    expect(seen).toEqual([-1]);
  });

  test('onClose after closing runs at once', () => {
    const c = new EventChannel<{ n: number }>();
    c.end();
    let ran = false;
    c.onClose(() => (ran = true));
    expect(ran).toBe(true);
  });
});
