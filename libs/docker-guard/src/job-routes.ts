/**
 * Which Engine API call a job's request is, on the job-scoped endpoint (job-scope.ts): what the
 * docker CLI, `docker compose` and the runner's own DockerCommandManager send for `docker run`,
 * `exec`, `build`, `logs`, `ps`, `network`, `volume` and service containers. The answer says what the
 * endpoint must do before it forwards: nothing (`pass`), narrow the filters (`list`), check and
 * rewrite a body or query (`create-*`, `build`, `pull`), or look the object up and check that it is
 * the job's (`object`). Everything else is refused with the reason the CLI prints.
 */
export type JobRoute =
  | { kind: 'pass'; what: string }
  | { kind: 'list'; what: string }
  | { kind: 'create'; what: 'container create' | 'network create' | 'volume create' }
  | { kind: 'build'; what: 'image build' }
  | { kind: 'pull'; what: 'image pull' }
  | { kind: 'object'; what: string; type: 'container' | 'network' | 'volume' | 'image' | 'exec'; id: string; rest: string; upgrade: boolean; body: 'exec' | 'stream' | 'none' }
  | { kind: 'refuse'; what: string; reason: string };

const VERSION_PREFIX = /^\/v[0-9]+(\.[0-9]+)?(?=\/)/;
const OBJECT_ID = /^[A-Za-z0-9][A-Za-z0-9_.:@-]*$/;

/** Calls on one container: method and sub-path → what; `true` marks those that hijack the connection. */
const CONTAINER_VERBS: Record<string, [string, boolean?]> = {
  'GET /json': ['container inspect'],
  'GET /logs': ['container logs'],
  'GET /stats': ['container stats'],
  'GET /top': ['container top'],
  'GET /changes': ['container changes'],
  'GET /export': ['container export'],
  'GET /archive': ['container archive read'],
  'HEAD /archive': ['container archive stat'],
  'PUT /archive': ['container archive write'],
  'POST /start': ['container start'],
  'POST /stop': ['container stop'],
  'POST /restart': ['container restart'],
  'POST /kill': ['container kill'],
  'POST /wait': ['container wait'],
  'POST /pause': ['container pause'],
  'POST /unpause': ['container unpause'],
  'POST /resize': ['container resize'],
  'POST /attach': ['container attach', true],
  'POST /exec': ['exec create'],
  'DELETE ': ['container remove'],
};
const EXEC_VERBS: Record<string, [string, boolean?]> = {
  'POST /start': ['exec start', true],
  'POST /resize': ['exec resize'],
  'GET /json': ['exec inspect'],
};
const NETWORK_VERBS: Record<string, [string]> = { 'GET ': ['network inspect'], 'DELETE ': ['network remove'] };
const VOLUME_VERBS: Record<string, [string]> = { 'GET ': ['volume inspect'], 'DELETE ': ['volume remove'] };
const LISTS: Record<string, string> = {
  '/containers/json': 'container list',
  '/networks': 'network list',
  '/volumes': 'volume list',
  '/images/json': 'image list',
  '/events': 'events',
};
const READS: Record<string, string> = { '/_ping': 'ping', '/version': 'version', '/info': 'info' };

export function classifyJob(method: string, rawPath: string): JobRoute {
  const m = method.toUpperCase();
  if (rawPath.includes('..') || rawPath.includes('//') || rawPath.includes('\\')) return refuse('dotted path', 'dotted or doubled paths are never forwarded');
  const path = rawPath.replace(VERSION_PREFIX, '');
  const read = m === 'GET' || m === 'HEAD';
  if (READS[path] !== undefined) return read ? { kind: 'pass', what: READS[path] } : refuse(READS[path], `only GET ${path}`);
  if (LISTS[path] !== undefined) return m === 'GET' ? { kind: 'list', what: LISTS[path] } : refuse(LISTS[path], `only GET ${path}`);
  if (m === 'POST' && path === '/containers/create') return { kind: 'create', what: 'container create' };
  if (m === 'POST' && path === '/networks/create') return { kind: 'create', what: 'network create' };
  if (m === 'POST' && path === '/volumes/create') return { kind: 'create', what: 'volume create' };
  if (m === 'POST' && path === '/build') return { kind: 'build', what: 'image build' };
  if (m === 'POST' && path === '/images/create') return { kind: 'pull', what: 'image pull' };
  if (/\/prune$/.test(path)) return refuse('prune', 'prune works on the whole host; remove your own objects by name (everything the job made is removed with its runner anyway)');
  if (path === '/session' || path === '/grpc') return refuse('buildkit session', 'BuildKit sessions are not served by the scoped endpoint; set DOCKER_BUILDKIT=0 to use the classic builder');

  const image = /^\/images\/(.+?)(\/json|\/history)?$/.exec(path);
  if (image && !path.endsWith('/tag') && !path.endsWith('/push') && !path.startsWith('/images/load') && !path.startsWith('/images/get') && !path.startsWith('/images/search')) {
    let name: string;
    try {
      name = decodeURIComponent(image[1]!);
    } catch {
      return refuse('image', 'the image name is not valid percent-encoding');
    }
    if (!/^[A-Za-z0-9][A-Za-z0-9._:@/-]*$/.test(name)) return refuse('image', `"${name.slice(0, 80)}" is not an image reference`);
    if (read && image[2]) return { kind: 'object', what: 'image inspect', type: 'image', id: name, rest: image[2], upgrade: false, body: 'none' };
    if (m === 'DELETE' && !image[2]) return { kind: 'object', what: 'image remove', type: 'image', id: name, rest: '', upgrade: false, body: 'none' };
  }

  const object = /^\/(containers|networks|volumes|exec)\/([^/]+)(\/[a-z]+)?$/.exec(path);
  if (object) {
    const [, plural, id, rest = ''] = object as unknown as [string, string, string, string | undefined];
    const type = plural === 'exec' ? 'exec' : (plural.slice(0, -1) as 'container' | 'network' | 'volume');
    if (!OBJECT_ID.test(id)) return refuse(`${type} other`, `"${id.slice(0, 80)}" is not an id or name`);
    const verbs = { container: CONTAINER_VERBS, exec: EXEC_VERBS, network: NETWORK_VERBS, volume: VOLUME_VERBS }[type];
    const verb = verbs[`${m === 'HEAD' && rest === '/archive' ? 'HEAD' : read ? 'GET' : m} ${rest}`];
    if (verb === undefined) return refuse(`${type} other`, `${type} call "${m} ${rest || '/'}" is not served by the job's endpoint (update, rename, connect and disconnect change what the job may reach)`);
    const [what, upgrade = false] = verb;
    const body = what === 'exec create' ? 'exec' : what === 'container archive write' || what === 'exec start' || what === 'container attach' ? 'stream' : 'none';
    return { kind: 'object', what, type, id, rest, upgrade, body };
  }
  return refuse('other', `${m} ${path.slice(0, 120)}: not served by the job's endpoint (image import, load, tag, push and commit, plugins, swarm, secrets and system calls reach past the job)`);
}

function refuse(what: string, reason: string): JobRoute {
  return { kind: 'refuse', what, reason };
}
