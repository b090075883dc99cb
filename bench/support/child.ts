// Benchmark children: the product (or a store, or a baseline server) runs in its own process so the
// load generator never shares its event loop. Parent and child talk over Node's IPC channel:
// the child announces itself with events (`{ type }`), the parent sends requests (`{ id, command }`).
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface ControlRequest {
  id: number;
  command: string;
  payload?: unknown;
}

export type ControlReply =
  { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

export interface ChildEvent {
  type: string;
}

function isReply(message: unknown): message is ControlReply {
  return typeof message === 'object' && message !== null && 'id' in message && 'ok' in message;
}

function isEvent(message: unknown): message is ChildEvent {
  return typeof message === 'object' && message !== null && 'type' in message;
}

export interface BenchChild {
  process: ChildProcess;
  /** Resolves with the first event of `type`; rejects if the child exits first. */
  next<T extends ChildEvent>(type: string, timeoutMs?: number): Promise<T>;
  request<T>(command: string, payload?: unknown, timeoutMs?: number): Promise<T>;
  /** Sends `close`, waits for the exit, and kills the child if it does not go in time. */
  stop(graceMs?: number): Promise<void>;
  /** The exit code (or signal name) once the child is gone. */
  exited: Promise<number | string>;
}

const running = new Set<ChildProcess>();
// A benchmark that crashes must not leave a product holding a data directory; SIGTERM lets the
// child close its stores, and the child bounds that itself (see serveControl).
process.once('exit', () => {
  for (const child of running) child.kill('SIGTERM');
});

export interface ForkOptions {
  /** Extra Node flags for the child (e.g. `--cpu-prof`), after the TypeScript loader. */
  nodeFlags?: readonly string[];
}

/** Starts `module` (a .ts file) with the same TypeScript loader this process runs under. */
export function forkBenchChild(
  module: URL,
  args: readonly string[],
  options: ForkOptions = {},
): BenchChild {
  const child = fork(fileURLToPath(module), [...args], {
    execArgv: [...process.execArgv, ...(options.nodeFlags ?? [])],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  running.add(child);
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve(code ?? signal ?? 'unknown');
    });
  });
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const waiters = new Set<(event: ChildEvent) => void>();

  child.on('message', (message: unknown) => {
    if (isReply(message)) {
      const waiter = pending.get(message.id);
      pending.delete(message.id);
      if (!waiter) return;
      if (message.ok) waiter.resolve(message.result);
      else waiter.reject(new Error(message.error));
    } else if (isEvent(message)) {
      for (const waiter of [...waiters]) waiter(message);
    }
  });
  void exited.then((code) => {
    for (const waiter of pending.values()) {
      waiter.reject(new Error(`${module.pathname} exited (${code}) before answering`));
    }
    pending.clear();
  });

  function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  }

  return {
    process: child,
    exited,
    next<T extends ChildEvent>(type: string, timeoutMs = 120_000) {
      let listener: ((event: ChildEvent) => void) | undefined;
      const seen = new Promise<T>((resolve, reject) => {
        listener = (event) => {
          if (event.type === type) resolve(event as T);
        };
        waiters.add(listener);
        void exited.then((code) =>
          reject(new Error(`${module.pathname} exited (${code}) before "${type}"`)),
        );
      });
      return withTimeout(seen, timeoutMs, `"${type}" from ${module.pathname}`).finally(() => {
        if (listener) waiters.delete(listener);
      });
    },
    request<T>(command: string, payload?: unknown, timeoutMs = 120_000) {
      const id = nextId++;
      const answered = new Promise<T>((resolve, reject) => {
        pending.set(id, { resolve: (v) => resolve(v as T), reject });
      });
      const request: ControlRequest = { id, command, payload };
      child.send(request);
      return withTimeout(answered, timeoutMs, `${command} on ${module.pathname}`);
    },
    async stop(graceMs = 20_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      if (child.connected) child.send({ id: 0, command: 'close' } satisfies ControlRequest);
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

const CLOSE_DEADLINE_MS = 15_000;

export type ControlHandlers = Record<string, (payload: unknown) => Promise<unknown>>;

/** Child side: answers the parent's requests; `close` also ends the process. */
export function serveControl(handlers: ControlHandlers, close: () => Promise<void>): void {
  let closing: Promise<void> | undefined;
  const shutdown = () => {
    // Nobody may be left to kill a child whose close hangs, so it gives itself a deadline.
    setTimeout(() => process.exit(1), CLOSE_DEADLINE_MS).unref();
    closing ??= close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
    return closing;
  };
  process.on('message', (message: unknown) => {
    if (!isRequest(message)) return;
    if (message.command === 'close') {
      void shutdown();
      return;
    }
    const handler = handlers[message.command];
    const reply = (r: ControlReply) => process.send?.(r);
    if (!handler) {
      reply({ id: message.id, ok: false, error: `unknown command ${message.command}` });
      return;
    }
    handler(message.payload).then(
      (result) => reply({ id: message.id, ok: true, result }),
      (error: unknown) => reply({ id: message.id, ok: false, error: String(error) }),
    );
  });
  // The parent is gone (crashed or interrupted): release the data directory and leave.
  process.on('disconnect', () => void shutdown());
  process.on('SIGTERM', () => void shutdown());
  process.on('SIGINT', () => void shutdown());
}

function isRequest(message: unknown): message is ControlRequest {
  return typeof message === 'object' && message !== null && 'id' in message && 'command' in message;
}

/** Child side: announces an event to the parent; resolves once it is handed over. */
export function tell(event: ChildEvent & Record<string, unknown>): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!process.send) return resolve();
    process.send(event, undefined, {}, (error) => (error ? reject(error) : resolve()));
  });
}
