// What a composition root opened, closed in reverse order exactly once: every closer runs even
// when one before it fails (so a dead server does not keep the others' connections and locks),
// and the failures are reported together at the end.
export interface Closers {
  add(close: () => Promise<void>): void;
  /** Closes everything added, last first; later calls return the same promise. */
  close(): Promise<void>;
}

export function createClosers(): Closers {
  const closers: (() => Promise<void>)[] = [];
  let closing: Promise<void> | undefined;
  return {
    add(close) {
      closers.push(close);
    },
    close() {
      closing ??= (async () => {
        const errors: unknown[] = [];
        for (const close of [...closers].reverse()) {
          try {
            await close();
          } catch (error) {
            errors.push(error);
          }
        }
        if (errors.length === 1) throw errors[0];
        if (errors.length > 1) throw new AggregateError(errors, `${errors.length} closers failed`);
      })();
      return closing;
    },
  };
}
