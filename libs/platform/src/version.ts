import { readFileSync } from 'node:fs';

/**
 * The RunnerHub release this code belongs to: the `version` of the root package.json, the one place
 * it is set (a release tag `v<version>` and CHANGELOG.md follow it). The file is three folders above
 * this module in both layouts: the repository (libs/platform/src) and a service image
 * (/app/libs/platform/dist beside /app/package.json, which the Dockerfile copies).
 */
export const RUNNERHUB_VERSION: string = readRootVersion();

function readRootVersion(): string {
  const file = new URL('../../../package.json', import.meta.url);
  const { name, version } = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
  if (name !== 'runnerhub' || typeof version !== 'string') throw new Error(`${file.pathname} is not RunnerHub's root package.json (name ${String(name)}, version ${String(version)})`);
  return version;
}
