import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The JIT config as actions/runner reads it (github-contract.md §6): base64 of a JSON object that
 * maps runner file names to base64 file contents. The files are written into the runner root as
 * the real runner does, then `.runner` (settings) and `.credentials` are read back.
 */

export interface RunnerSettings {
  agentId: number;
  agentName: string;
  serverUrl: string;
  workFolder: string;
  ephemeral: boolean;
  token: string;
}

export class JitConfigError extends Error {}

function decodeBase64Json(text: string, what: string): Record<string, unknown> {
  const trimmed = text.trim();
  if (!/^[A-Za-z0-9+/=\s_-]+$/.test(trimmed)) throw new JitConfigError(`${what} is not base64`);
  try {
    const value: unknown = JSON.parse(Buffer.from(trimmed, 'base64').toString('utf8'));
    if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error('not an object');
    return value as Record<string, unknown>;
  } catch {
    throw new JitConfigError(`${what} is not base64-encoded JSON`);
  }
}

/** Decodes the config into its files (name → content). */
export function decodeJitConfig(encoded: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const [name, content] of Object.entries(decodeBase64Json(encoded, 'the JIT config'))) {
    if (typeof content !== 'string' || !/^\.[A-Za-z0-9_.-]+$/.test(name)) throw new JitConfigError(`the JIT config has an invalid entry ${JSON.stringify(name)}`);
    files.set(name, Buffer.from(content, 'base64').toString('utf8'));
  }
  return files;
}

export function settingsFrom(files: Map<string, string>): RunnerSettings {
  const runner = decodeJsonFile(files, '.runner');
  const credentials = decodeJsonFile(files, '.credentials');
  const token = (credentials['Data'] as { token?: unknown } | undefined)?.token;
  if (typeof runner['ServerUrl'] !== 'string' || typeof runner['AgentName'] !== 'string' || typeof token !== 'string') {
    throw new JitConfigError('the JIT config lacks ServerUrl, AgentName or a credential');
  }
  return {
    agentId: Number(runner['AgentId'] ?? 0),
    agentName: runner['AgentName'],
    serverUrl: runner['ServerUrl'].replace(/\/+$/, ''),
    workFolder: typeof runner['WorkFolder'] === 'string' ? runner['WorkFolder'] : '_work',
    ephemeral: runner['Ephemeral'] !== false,
    token,
  };
}

function decodeJsonFile(files: Map<string, string>, name: string): Record<string, unknown> {
  const content = files.get(name);
  if (content === undefined) throw new JitConfigError(`the JIT config has no ${name}`);
  try {
    return JSON.parse(content) as Record<string, unknown>;
  } catch {
    throw new JitConfigError(`${name} in the JIT config is not JSON`);
  }
}

export function writeRunnerFiles(root: string, files: Map<string, string>): void {
  mkdirSync(root, { recursive: true });
  for (const [name, content] of files) writeFileSync(join(root, name), content, { mode: 0o600 });
}

/** An ephemeral runner deletes its configuration when it is done, as the real one does. */
export function removeRunnerFiles(root: string, files: Map<string, string>): void {
  for (const name of files.keys()) rmSync(join(root, name), { force: true });
}
