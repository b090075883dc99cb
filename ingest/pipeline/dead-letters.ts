// Messages a pipeline stage cannot apply go to the dead-letter topic with the stage and the
// reason (`schema/dead-letter.ts`), so the stage moves on and nothing is silently lost.
import type { Bus, BusMessage } from '../../lib/bus/bus.port.ts';
import type { DeadLetter as DeadLetterMessage, DeadLetterStage } from '../../schema/dead-letter.ts';
import { DEAD_LETTER_TOPIC } from './topics.ts';

export interface DeadLetter {
  message: BusMessage;
  reason: string;
}

export type DeadLetterWriter = (
  stage: DeadLetterStage,
  letters: readonly DeadLetter[],
) => Promise<void>;

export function busDeadLetters(bus: Bus, now: () => number = Date.now): DeadLetterWriter {
  return async (stage, letters) => {
    if (letters.length === 0) return;
    const failedAt = now();
    await bus.publish(
      DEAD_LETTER_TOPIC,
      letters.map(({ message, reason }) => {
        const letter: DeadLetterMessage = {
          stage,
          reason,
          topic: message.topic,
          partition: message.partition,
          offset: message.offset,
          key: message.key,
          original: message.value,
          failedAt,
        };
        return { key: message.key, value: JSON.stringify(letter) };
      }),
    );
  };
}
