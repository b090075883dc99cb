// Polling for what arrives asynchronously (a count through the gateway, a tick, a rebalance),
// with a deadline whose error names what never came.

/** Resolves with the first value `probe` gives that is not undefined. */
export async function waitForValue<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  ms = 20_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Resolves once `check` holds. */
export async function waitUntil(
  what: string,
  check: () => Promise<boolean> | boolean,
  ms = 20_000,
): Promise<void> {
  await waitForValue(what, async () => ((await check()) ? true : undefined), ms);
}
