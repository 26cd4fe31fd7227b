import { pack } from 'tar-stream';

/**
 * How the JIT config reaches the runner without showing up in `docker inspect`: it is copied into
 * the created (not yet started) container as a file on a volume of its own, and a small wrapper
 * moves it into ACTIONS_RUNNER_INPUT_JITCONFIG (which actions/runner reads and then drops from the
 * job's environment) and deletes the file before exec-ing the runner. Config.Env and Config.Cmd
 * never hold it. Threat model: docs/security.md.
 */

export const JIT_DIR = '/run/runnerhub';
/** A folder inside the volume, so the runner's user can own it (Docker keeps the volume root's owner). */
const JIT_FOLDER = 'jit';
const JIT_FILE = 'config';

const WRAPPER = [
  `f=${JIT_DIR}/${JIT_FOLDER}/${JIT_FILE}`,
  'if [ -f "$f" ]; then ACTIONS_RUNNER_INPUT_JITCONFIG=$(cat "$f") || exit 70; export ACTIONS_RUNNER_INPUT_JITCONFIG; rm -f "$f"; fi',
  'exec "$@"',
].join('\n');

/** The container's Cmd: the wrapper, then the runner's own command and arguments. */
export function wrapCommand(command: readonly string[]): string[] {
  return ['/bin/sh', '-c', WRAPPER, 'runnerhub-start', ...command];
}

/**
 * A tar for PUT /containers/{id}/archive?path=JIT_DIR. The folder belongs to the runner's user so
 * the wrapper may delete the file; file and folder are that user's only.
 */
export async function jitArchive(jitConfig: string, owner: { uid: number; gid: number }): Promise<Buffer> {
  const tar = pack();
  const chunks: Buffer[] = [];
  tar.on('data', (chunk: unknown) => chunks.push(chunk as Buffer));
  const done = new Promise<Buffer>((resolve, reject) => {
    tar.on('end', () => resolve(Buffer.concat(chunks)));
    tar.on('error', reject);
  });
  tar.entry({ name: `${JIT_FOLDER}/`, type: 'directory', mode: 0o700, uid: owner.uid, gid: owner.gid });
  tar.entry({ name: `${JIT_FOLDER}/${JIT_FILE}`, mode: 0o400, uid: owner.uid, gid: owner.gid }, jitConfig);
  tar.finalize();
  return done;
}
