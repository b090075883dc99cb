// An async iterator fed by callbacks. Its return() takes effect at once, even while a next() is
// waiting; an async generator would queue it until the next event, leaving upstream open.

export class EventChannel<T extends object> implements AsyncIterableIterator<T> {
  readonly #buffer: T[] = [];
  readonly #waiting: ((result: IteratorResult<T>) => void)[] = [];
  #ended = false;
  #closed = false;
  #onClose: (() => void) | undefined;

  /** Runs `callback` once: when the consumer returns early or has read the last value. */
  onClose(callback: () => void): void {
    if (this.#closed) callback();
    else this.#onClose = callback;
  }

  /** Values queued and not yet read. */
  get buffered(): number {
    return this.#buffer.length;
  }

  get closed(): boolean {
    return this.#closed;
  }

  push(value: T): void {
    if (this.#ended) return;
    const waiter = this.#waiting.shift();
    if (waiter) waiter({ value, done: false });
    else this.#buffer.push(value);
  }

  /** No more values; those already queued are still delivered. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#buffer.length === 0) this.#close();
  }

  /** Drops what is queued, delivers `last` and ends: for a subscriber that fell behind. */
  endWith(last: T): void {
    if (this.#ended) return;
    this.#buffer.length = 0;
    this.push(last);
    this.end();
  }

  next(): Promise<IteratorResult<T>> {
    const value = this.#buffer.shift();
    if (value !== undefined) {
      if (this.#ended && this.#buffer.length === 0) this.#close();
      return Promise.resolve({ value, done: false });
    }
    if (this.#ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  return(): Promise<IteratorResult<T>> {
    this.#ended = true;
    this.#buffer.length = 0;
    this.#close();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const waiter of this.#waiting.splice(0)) waiter({ value: undefined, done: true });
    this.#onClose?.();
  }
}
