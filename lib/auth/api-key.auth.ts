// Authenticates API keys against the meta store, remembering answers (yes and no) for a while.
import type { Keyv } from 'keyv';
import { authenticateApiKey, hashApiKey } from '../meta/accounts.repo.ts';
import type { MetaQuery } from '../meta/meta.port.ts';
import { cacheLookups } from '../observability/metrics.ts';
import type { Authenticator, Caller } from './caller.ts';

export interface ApiKeyAuthenticatorOptions {
  /** How long an answer is reused; a revoked key keeps working for at most this long. */
  ttlMs?: number;
  /** Entries of the built-in cache (used when no Keyv is given); the oldest go first. */
  maxEntries?: number;
  /** Clock of the built-in cache, for tests. */
  now?: () => number;
}

/** What is cached per key hash: null is a remembered refusal. */
interface Answer {
  caller: Caller | null;
}

interface AnswerCache {
  get(id: string): Promise<Answer | undefined>;
  set(id: string, answer: Answer): Promise<void>;
}

/**
 * Builds the Authenticator every service uses. Answers are cached under the key's SHA-256, so
 * no cache (in memory or Redis) ever holds a key; lookups of one key in flight are shared.
 */
export function createApiKeyAuthenticator(
  meta: MetaQuery,
  cache?: Keyv,
  options: ApiKeyAuthenticatorOptions = {},
): Authenticator {
  const { ttlMs = 30_000, maxEntries = 10_000, now = Date.now } = options;
  const answers = cache ? keyvAnswers(cache, ttlMs) : memoryAnswers(ttlMs, maxEntries, now);
  const inFlight = new Map<string, Promise<Caller | null>>();

  return async (apiKey) => {
    const id = hashApiKey(apiKey);
    const cached = await answers.get(id);
    cacheLookups.inc({ cache: 'api-keys', result: cached ? 'hit' : 'miss' });
    if (cached) return cached.caller && { ...cached.caller };
    let pending = inFlight.get(id);
    if (!pending) {
      pending = authenticateApiKey(meta, apiKey)
        .then(async (caller) => {
          await answers.set(id, { caller });
          return caller;
        })
        .finally(() => inFlight.delete(id));
      inFlight.set(id, pending);
    }
    const caller = await pending;
    return caller && { ...caller };
  };
}

function memoryAnswers(ttlMs: number, maxEntries: number, now: () => number): AnswerCache {
  // Map order is insertion order, so the first key is the oldest entry.
  const entries = new Map<string, { answer: Answer; expiresAt: number }>();
  return {
    async get(id) {
      const entry = entries.get(id);
      if (!entry) return undefined;
      if (entry.expiresAt > now()) return entry.answer;
      entries.delete(id);
      return undefined;
    },
    async set(id, answer) {
      entries.delete(id);
      entries.set(id, { answer, expiresAt: now() + ttlMs });
      // Unknown keys are remembered too, so a flood of made-up keys must not grow this for ever.
      while (entries.size > maxEntries) {
        const oldest = entries.keys().next();
        if (oldest.done) break;
        entries.delete(oldest.value);
      }
    },
  };
}

function keyvAnswers(cache: Keyv, ttlMs: number): AnswerCache {
  // A cache that fails is a miss, never a refusal: the meta store stays the authority.
  return {
    async get(id) {
      try {
        const value: unknown = await cache.get(id);
        return isAnswer(value) ? value : undefined;
      } catch {
        return undefined;
      }
    },
    async set(id, answer) {
      try {
        await cache.set(id, answer, ttlMs);
      } catch {
        // Nothing to do: the next request asks the meta store again.
      }
    },
  };
}

function isAnswer(value: unknown): value is Answer {
  if (typeof value !== 'object' || value === null || !('caller' in value)) return false;
  const { caller } = value;
  if (caller === null) return true;
  return (
    typeof caller === 'object' &&
    'orgId' in caller &&
    typeof caller.orgId === 'string' &&
    'timeZone' in caller &&
    typeof caller.timeZone === 'string'
  );
}
