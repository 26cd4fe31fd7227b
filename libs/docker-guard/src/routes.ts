import { JIT_DIR } from '@runnerhub/docker';
import { matchesAny, normaliseImage, type GuardPolicy } from './policy.js';

/**
 * Which Engine API call a request is, limited to the calls the container-executor makes (every
 * dockerode call in services/container-executor and libs/docker, listed in docs/security.md). The
 * answer says what the proxy has to do before it may forward: nothing (`pass`), read and check the
 * body (`create-container`, `create-network`), or look the target up and check its labels
 * (`container`, `network`). Anything else is `refuse`, with the reason a person reads in the 403.
 */
export type Route =
  | { kind: 'pass'; what: string }
  | { kind: 'create-container'; what: 'container create' }
  | { kind: 'create-network'; what: 'network create' }
  | { kind: 'container'; what: string; id: string; rest: string }
  | { kind: 'network'; what: string; id: string; rest: string }
  | { kind: 'refuse'; what: string; reason: string };

/** Container ids and names, network ids and names: no slash, no encoded character, no dot-dot. */
const OBJECT_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const VERSION_PREFIX = /^\/v[0-9]+(\.[0-9]+)?(?=\/)/;
/** What the executor does to its own containers, by method and sub-path. */
const CONTAINER_VERBS: Record<string, string> = {
  'GET /json': 'container inspect',
  'GET /logs': 'container logs',
  'GET /stats': 'container stats',
  'POST /start': 'container start',
  'POST /stop': 'container stop',
  // Not made by the executor, but a read of our own container's exit (the tests wait on runners).
  'POST /wait': 'container wait',
  'DELETE ': 'container remove',
  'PUT /archive': 'container archive upload',
};
const NETWORK_VERBS: Record<string, string> = {
  'GET ': 'network inspect',
  'DELETE ': 'network remove',
};
/** Reads the executor makes that name no single object. */
const READS: Record<string, string> = {
  '/_ping': 'ping',
  '/version': 'version',
  '/info': 'info',
  '/events': 'events',
  '/containers/json': 'container list',
  '/networks': 'network list',
  '/images/json': 'image list',
};

export function classify(method: string, rawPath: string, query: URLSearchParams, policy: GuardPolicy): Route {
  const m = method.toUpperCase();
  if (rawPath.includes('..') || rawPath.includes('//') || rawPath.includes('\\')) return refuse('dotted path', `${m} ${rawPath.slice(0, 120)}: dotted or doubled paths are never forwarded`);
  const path = rawPath.replace(VERSION_PREFIX, '');
  const read = m === 'GET' || m === 'HEAD';

  if (READS[path] !== undefined) {
    if (read) return { kind: 'pass', what: READS[path] };
    return refuse(`${READS[path]} write`, `only GET ${path} is allowed`);
  }
  if (path === '/containers/create') return m === 'POST' ? { kind: 'create-container', what: 'container create' } : refuse('container create', 'only POST creates');
  if (path === '/networks/create') return m === 'POST' ? { kind: 'create-network', what: 'network create' } : refuse('network create', 'only POST creates');
  if (path === '/images/create') return m === 'POST' ? imagePull(query, policy) : refuse('image pull', 'only POST pulls');

  const image = /^\/images\/(.+)\/json$/.exec(path);
  if (image && read) {
    let name: string;
    try {
      name = decodeURIComponent(image[1]!);
    } catch {
      return refuse('image inspect', 'the image name is not valid percent-encoding');
    }
    if (/^[A-Za-z0-9][A-Za-z0-9._:@/-]*$/.test(name) && !name.includes('..')) return { kind: 'pass', what: 'image inspect' };
    return refuse('image inspect', `"${name.slice(0, 80)}" is not an image reference`);
  }

  const object = /^\/(containers|networks)\/([^/]+)(\/[a-z]+)?$/.exec(path);
  if (object) {
    const [, type, id, rest = ''] = object as unknown as [string, 'containers' | 'networks', string, string | undefined];
    const noun = type === 'containers' ? 'container' : 'network';
    if (!OBJECT_ID.test(id)) return refuse(`${noun} other`, `"${id.slice(0, 80)}" is not a container or network id or name`);
    if (id === 'prune' || rest === '/prune') return refuse('prune', "prune removes other people's objects too; the executor removes what it owns, by id");
    const verbs = type === 'containers' ? CONTAINER_VERBS : NETWORK_VERBS;
    const what = verbs[`${read ? 'GET' : m} ${rest}`];
    if (what === undefined) return refuse(`${noun} other`, `${noun} call "${m} ${rest || '/'}" is not one the executor makes (exec, attach, kill, archive reads, connect and disconnect are never forwarded)`);
    if (what === 'container archive upload' && query.get('path') !== JIT_DIR) return refuse(what, `files may only be put into ${JIT_DIR} (the JIT config), not ${query.get('path') ?? 'nowhere'}`);
    return { kind: type === 'containers' ? 'container' : 'network', what, id, rest };
  }
  return refuse('other', `${m} ${path.slice(0, 120)}: the executor never makes this call (exec, build, volumes, plugins, swarm, secrets, system, prune and image changes are never forwarded)`);
}

/** `what` is a short fixed phrase (it labels the guard's metrics); the reason carries the detail. */
function refuse(what: string, reason: string): Route {
  return { kind: 'refuse', what, reason };
}

/** POST /images/create: a registry pull of an image the pools name; never an import (fromSrc). */
function imagePull(query: URLSearchParams, policy: GuardPolicy): Route {
  const allowedKeys = new Set(['fromImage', 'tag', 'platform']);
  if (query.has('fromSrc')) return refuse('image import', 'importing an image (fromSrc) could replace a runner image with anything; only registry pulls are allowed');
  const extra = [...query.keys()].find((k) => !allowedKeys.has(k));
  if (extra !== undefined) return refuse('image pull', `image create parameter "${extra}" is not allowed (only fromImage, tag, platform)`);
  const from = query.get('fromImage');
  if (!from) return refuse('image pull', 'fromImage is required');
  const tag = query.get('tag');
  const reference = tag ? (tag.startsWith('sha256:') ? `${from}@${tag}` : `${from}:${tag}`) : from;
  if (!matchesAny(normaliseImage(reference), policy.images)) return refuse('image pull', `image "${reference}" is not one the pools name (allowed: ${policy.images.join(', ')})`);
  return { kind: 'pass', what: 'image pull' };
}
