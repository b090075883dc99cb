// KRaft cluster ids: 16 random bytes in URL-safe base64 without padding, as Kafka's Uuid writes
// them, and the `cluster-id` file that keeps one data directory's id across starts.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

/** What Kafka's `Uuid.fromString` takes: 22 URL-safe base64 characters, no padding. */
export function isClusterId(id: string): boolean {
  return /^[A-Za-z0-9_-]{22}$/.test(id);
}

/** Never starts with '-', as Kafka's own `Uuid.randomUuid()`, so no tool reads it as a flag. */
export function newClusterId(random: (size: number) => Buffer = randomBytes): string {
  for (;;) {
    const id = random(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/**
 * The id saved in `file`, or a new one saved there when there is none or the saved one is not a
 * cluster id (a new id is only safe while no node has been formatted with the old one).
 */
export function savedClusterId(file: string, log: (line: string) => void): string {
  const saved = existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined;
  if (saved !== undefined && isClusterId(saved)) return saved;
  const id = newClusterId();
  if (saved !== undefined) {
    log(`kafka: saved cluster id ${JSON.stringify(saved)} in ${file} is not one; using a new one`);
  }
  writeFileSync(file, `${id}\n`);
  return id;
}
