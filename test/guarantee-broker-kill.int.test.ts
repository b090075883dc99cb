// Guarantee: the collector acknowledges a batch only once the broker has it. A single Kafka node
// is killed mid-ingest and restarted 3 s later; acknowledged and resent batches count once.
import { brokerKillScenario } from './support/broker-kill-scenario.ts';

brokerKillScenario({ nodes: 1, restartAfterMs: 3000 });
