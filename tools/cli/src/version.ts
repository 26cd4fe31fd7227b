import { readFileSync } from 'node:fs';

/** The release: the root package.json's version, three folders up in the repository (tools/cli/src) and in an image (/app/tools/cli/dist). */
export const RUNNERHUB_CLI_VERSION: string = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
