// Validates a bus message into an envelope once per process: on the embedded bus every consumer
// group receives the same message object, so the sink, speed layer and text pipeline share it.
import type { BusMessage } from '../../lib/bus/bus.port.ts';
import { parseEnvelope } from '../../schema/event-envelope.ts';

type Parsed = ReturnType<typeof parseEnvelope>;

const parsedMessages = new WeakMap<BusMessage, Parsed>();

export function readEnvelope(message: BusMessage): Parsed {
  let parsed = parsedMessages.get(message);
  if (!parsed) {
    parsed = parseEnvelope(message.value);
    parsedMessages.set(message, parsed);
  }
  return parsed;
}
