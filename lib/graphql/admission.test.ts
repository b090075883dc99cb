import { describe, expect, test } from 'vitest';
import { createAdmission } from './admission.ts';

describe('admission', () => {
  test('admits up to the bound, queues up to its size, and refuses the rest at once', async () => {
    const admission = createAdmission({ maxInFlight: 2, maxQueued: 1, maxWaitMs: 10_000 });
    const a = await admission.enter();
    const b = await admission.enter();
    const queued = admission.enter();
    const refused = await admission.enter();
    expect([a, b].every((r) => typeof r === 'function')).toBe(true);
    expect(refused).toBeUndefined();
    expect([admission.inFlight, admission.queued]).toEqual([2, 1]);

    a!();
    a!(); // a second release must not free a second slot
    const c = await queued;
    expect(typeof c).toBe('function');
    expect([admission.inFlight, admission.queued]).toEqual([2, 0]);
    const again = admission.enter(); // the queue place is free again
    b!();
    expect(typeof (await again)).toBe('function');
  });

  test('a waiter is refused when its wait runs out or its caller leaves', async () => {
    const admission = createAdmission({ maxInFlight: 1, maxQueued: 2, maxWaitMs: 50 });
    const held = await admission.enter();
    const started = Date.now();
    expect(await admission.enter()).toBeUndefined();
    expect(Date.now() - started).toBeGreaterThanOrEqual(40);

    const controller = new AbortController();
    const leaving = admission.enter(controller.signal);
    controller.abort();
    expect(await leaving).toBeUndefined();
    expect(admission.queued).toBe(0);

    let settled = false;
    const done = admission.settled().then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 10));
    expect(settled).toBe(false);
    held!();
    await done;
    expect(admission.inFlight).toBe(0);
  });
});
