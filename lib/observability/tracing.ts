// OpenTelemetry traces, sent over OTLP/HTTP to the configured endpoint: a server span per request
// at every door (joining the caller's `traceparent`), Apollo's own gateway spans (plan, fetch),
// a client span per subgraph call with `traceparent` passed on, and a span per store call.
// Without an endpoint nothing is registered, and the API's spans cost next to nothing.
import {
  context,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Span,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

const tracer = () => trace.getTracer('loupe');

/** Registers the process's tracer provider; `shutdown` sends what is buffered and stops. */
export function startTracing(options: {
  url: string;
  serviceName: string;
  /** How long spans wait to be sent in a batch. */
  delayMs?: number;
}): { shutdown(): Promise<void> } {
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.serviceName }),
    spanProcessors: [
      new BatchSpanProcessor(new OTLPTraceExporter({ url: options.url }), {
        scheduledDelayMillis: options.delayMs ?? 1_000,
      }),
    ],
  });
  provider.register({ propagator: new W3CTraceContextPropagator() });
  return { shutdown: () => provider.shutdown() };
}

/** Runs `work` in a new active span, ended when it settles; a failure is recorded on it. */
export async function inSpan<T>(
  name: string,
  kind: SpanKind,
  attributes: Attributes,
  work: (span: Span) => Promise<T>,
): Promise<T> {
  return tracer().startActiveSpan(name, { kind, attributes }, async (span) => {
    try {
      return await work(span);
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw error;
    } finally {
      span.end();
    }
  });
}

/** Runs `work` under the trace context of incoming headers (`traceparent`), if any. */
export function withIncomingTrace<T>(
  headers: Record<string, string | string[] | undefined>,
  work: () => T,
): T {
  return context.with(propagation.extract(context.active(), headers), work);
}

/** Writes the active trace context (`traceparent`) into outgoing headers. */
export function injectTrace(set: (name: string, value: string) => void): void {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  for (const [name, value] of Object.entries(carrier)) set(name, value);
}

/** Wraps a store so each of its calls is a span named `<store>.<method>`, its work inside it. */
export function traced<T extends object>(store: T, name: string): T {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      return (...args: unknown[]): unknown =>
        tracer().startActiveSpan(
          `${name}.${property}`,
          { kind: SpanKind.CLIENT, attributes: { 'db.system': name } },
          (span) => {
            const failed = (error: unknown) => {
              span.recordException(error as Error);
              span.setStatus({ code: SpanStatusCode.ERROR });
              span.end();
              throw error;
            };
            let result: unknown;
            try {
              result = Reflect.apply(value, target, args);
            } catch (error) {
              return failed(error);
            }
            if (!(result instanceof Promise)) {
              span.end();
              return result;
            }
            return result.then((v: unknown) => {
              span.end();
              return v;
            }, failed);
          },
        );
    },
  });
}

export { SpanKind };
