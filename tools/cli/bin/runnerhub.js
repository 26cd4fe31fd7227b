#!/usr/bin/env node
// Runs the built CLI when there is one, else the TypeScript source through tsx (development), with
// the workspace's libraries resolved to their sources (the runnerhub-source condition); tsx found
// from here, so it runs from any directory.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const built = fileURLToPath(new URL('../dist/main.js', import.meta.url));
if (existsSync(built)) {
  await import(pathToFileURL(built).href);
} else {
  const source = fileURLToPath(new URL('../src/main.ts', import.meta.url));
  // stdio inherited: `runnerhub mcp` speaks MCP over this process's stdin and stdout. Signals are
  // passed on (`logs --follow` ends on SIGINT with its own exit code), and the child's code is ours.
  const child = spawn(process.execPath, ['--conditions=runnerhub-source', '--import', import.meta.resolve('tsx'), source, ...process.argv.slice(2)], { stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code) => process.exit(code ?? 1));
}
