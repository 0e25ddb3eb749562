/**
 * Which version a new run starts on. Every trigger (API, event, and any
 * other that starts runs of a published workflow) picks through
 * `pickVersion`, so a rollout splits all of them the same way.
 *
 * The pick is a pure function of the workflow, the rollout's version and the
 * trigger's key (the event id for an event, the idempotency key or the
 * request id for an API call): the same event id always picks the same
 * version, a redelivered event lands where the first delivery did, and the
 * split needs no state beyond the rollout's percentage. The rollout's
 * version is part of the hash, so each rollout draws a fresh sample of keys.
 */
import { createHash } from 'node:crypto';
import type { VersionRecord, VersionRouting } from '../store/workflow-store';

export interface PickedVersion {
  version: VersionRecord;
  /** `rollout` when the run falls in the rollout's share, else `live`. */
  via: 'live' | 'rollout';
}

/** Buckets of the split: a percentage with two decimals picks a whole number of them. */
const BUCKETS = 10_000;

/** The key's bucket (0..9,999) in a rollout of `version` of `workflowId`. */
export function rolloutBucket(workflowId: string, version: number, key: string): number {
  const digest = createHash('sha256').update(`${workflowId}\n${version}\n${key}`).digest();
  return digest.readUInt32BE(0) % BUCKETS;
}

export function pickVersion(routing: VersionRouting, key: string): PickedVersion {
  const rollout = routing.rollout;
  if (!rollout || rollout.percent <= 0) return { version: routing.live, via: 'live' };
  const share = Math.round(rollout.percent * (BUCKETS / 100));
  return rolloutBucket(routing.workflowId, rollout.version.version, key) < share ? { version: rollout.version, via: 'rollout' } : { version: routing.live, via: 'live' };
}
