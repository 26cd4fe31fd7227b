import { LABEL } from '@runnerhub/docker';
import { ALLOW, deny, foreignReason, type Decision, type GuardPolicy } from './policy.js';

/**
 * POST /networks/create as the executor makes it (runner-containers.ts ensureNetwork, network-stock.ts):
 * a bridge with our name prefix and this deployment's labels; `Internal` for the egress work of
 * issue 24. No driver options, IPAM or attachable flags (they could reuse a host bridge or pick
 * addresses of the LAN).
 */
const KEYS = new Set(['Name', 'Driver', 'CheckDuplicate', 'Labels', 'Internal']);
const OWN_LABELS = new Set<string>(Object.values(LABEL));

export function checkNetworkCreate(body: unknown, policy: GuardPolicy): Decision {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return deny('the network create body must be a JSON object');
  const b = body as Record<string, unknown>;
  const extra = Object.keys(b).find((k) => !KEYS.has(k));
  if (extra !== undefined) return deny(`network field "${extra}" is not allowed (only ${[...KEYS].join(', ')})`);
  const name = b['Name'];
  if (typeof name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name) || !name.startsWith(policy.namePrefix)) return deny(`network name "${String(name)}" does not start with "${policy.namePrefix}"`);
  if (b['Driver'] !== undefined && b['Driver'] !== 'bridge') return deny(`network driver ${JSON.stringify(b["Driver"])}: only bridge`);
  if (b['CheckDuplicate'] !== undefined && typeof b['CheckDuplicate'] !== 'boolean') return deny('CheckDuplicate must be true or false');
  if (b['Internal'] !== undefined && typeof b['Internal'] !== 'boolean') return deny('Internal must be true or false');
  const labels = b['Labels'];
  if (typeof labels !== 'object' || labels === null || Array.isArray(labels)) return deny(`network Labels are required: ${LABEL.managed}=true and this deployment's ${LABEL.deployment}`);
  const l = labels as Record<string, unknown>;
  const foreignLabel = Object.keys(l).find((k) => !OWN_LABELS.has(k) || typeof l[k] !== 'string');
  if (foreignLabel !== undefined) return deny(`label "${foreignLabel}" is not one RunnerHub sets`);
  const notOurs = foreignReason(l as Record<string, string>, policy);
  if (notOurs) return deny(`the new network's labels are not this deployment's: ${notOurs}`);
  return ALLOW;
}
