// Messages a pipeline stage cannot process go to the dead-letter topic with the reason, so
// the stage moves on and nothing is silently lost.
import type { Bus, BusMessage } from '../../lib/bus/bus.port.ts';
import { DEAD_LETTER_TOPIC } from './topics.ts';

export interface DeadLetter {
  message: BusMessage;
  reason: string;
}

export type DeadLetterWriter = (stage: string, letters: readonly DeadLetter[]) => Promise<void>;

export function busDeadLetters(bus: Bus): DeadLetterWriter {
  return async (stage, letters) => {
    if (letters.length === 0) return;
    await bus.publish(
      DEAD_LETTER_TOPIC,
      letters.map(({ message, reason }) => ({
        key: message.key,
        value: JSON.stringify({
          stage,
          reason,
          topic: message.topic,
          partition: message.partition,
          offset: message.offset,
          original: message.value,
        }),
      })),
    );
  };
}
