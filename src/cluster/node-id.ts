import { randomBytes } from 'node:crypto';
import type { Config } from '../config.js';

const perProcess = `node-${randomBytes(5).toString('hex')}`;

/**
 * This node's name in Redis: the origin stamped on the events it appends to the stream and its entry in the
 * heartbeat set: the cluster's `--node-id`, else a random id per process.
 */
export function redisNodeId(config: Config): string {
  return config.cluster.nodeId || perProcess;
}
