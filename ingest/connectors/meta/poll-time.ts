// The day arithmetic of a Meta poll: UTC days, Unix seconds for Graph's `since`/`until`, and
// Meta's insights delay, so every step agrees on when a day has settled.

export const DAY = 86_400_000;
/** Meta's documented insights delay: a day is read once it ended more than 48 h ago. */
const SETTLE_MS = 48 * 3_600_000;

export const iso = (ms: number) => new Date(ms).toISOString();
export const unix = (ms: number) => Math.floor(ms / 1000);
export const dayKey = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const dayStartOf = (ms: number) => Math.floor(ms / DAY) * DAY;

/** The start of the last whole UTC day whose insights have settled at `now`. */
export const lastSettledDay = (now: number) => dayStartOf(now - SETTLE_MS) - DAY;
