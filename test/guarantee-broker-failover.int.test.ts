// Guarantee on a three-node cluster (replication factor 3, two in-sync replicas required): one
// node is killed mid-ingest and stays down; the others take over its partitions, and every
// acknowledged event is still counted exactly once.
import { brokerKillScenario } from './support/broker-kill-scenario.ts';

brokerKillScenario({ nodes: 3 });
