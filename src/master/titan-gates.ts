/**
 * Titan's key-based gates: a job running Titan's `hitl_gate.py` registers itself in the data
 * bus (`titan:hitl:queue`, `titan:hitl:status|message|ts:<gate>`) and polls its status key. These
 * gates are listed and decided through the same doors as native ones; a decision writes the
 * status key the script is waiting for and, unlike Titan, takes the gate off the queue.
 */
import { TITAN_GATE_STATUS_PREFIX } from '../protocol/access.js';
import type { GateView } from '../protocol/methods.js';
import type { KvService } from './kv.js';

export const HITL_QUEUE = 'titan:hitl:queue';
const statusKey = (gate: string): string => `${TITAN_GATE_STATUS_PREFIX}${gate}`;

async function value(kv: KvService, key: string): Promise<string | null> {
  try {
    return (await kv.get(key)).value;
  } catch {
    // A key of the wrong type is not a gate's key: ignore it rather than fail the listing.
    return null;
  }
}

/** Titan gates whose status is WAITING. */
export async function listTitanGates(kv: KvService): Promise<GateView[]> {
  let members: string[];
  try {
    members = (await kv.smembers(HITL_QUEUE)).members;
  } catch {
    return [];
  }
  const gates: GateView[] = [];
  for (const gate of members) {
    if ((await value(kv, statusKey(gate))) !== 'WAITING') continue;
    const openedAt = Number(await value(kv, `titan:hitl:ts:${gate}`));
    gates.push({ ref: gate, runId: '', runName: 'titan gate', jobId: gate, message: await value(kv, `titan:hitl:message:${gate}`), openedAt: Number.isFinite(openedAt) ? openedAt : 0, deadline: null, style: 'titan' });
  }
  return gates;
}

/** Decides a waiting Titan gate; false when no such gate is waiting. */
export async function decideTitanGate(kv: KvService, gate: string, approved: boolean): Promise<boolean> {
  if ((await value(kv, statusKey(gate))) !== 'WAITING') return false;
  await kv.set(statusKey(gate), approved ? 'APPROVED' : 'REJECTED', null);
  await kv.srem(HITL_QUEUE, [gate]);
  return true;
}
