import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** File contents usually end with a newline the writer did not mean as part of the secret. */
function trimNewline(s: string): string {
  return s.replace(/\r?\n$/, '');
}

export async function readSecretFile(path: string): Promise<string | undefined> {
  try {
    return trimNewline(await readFile(path, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`cannot read secret file ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/** Docker secrets are mounted at /run/secrets/<name>; we look for the lower-case variable name. */
export function dockerSecretPath(dir: string, name: string): string {
  return join(dir, name.toLowerCase());
}
