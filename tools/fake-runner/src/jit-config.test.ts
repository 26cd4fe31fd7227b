import { describe, expect, it } from 'vitest';
import { decodeJitConfig, JitConfigError, settingsFrom } from './jit-config.js';

const b64 = (value: unknown): string => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64');

function encode(files: Record<string, unknown>): string {
  return b64(Object.fromEntries(Object.entries(files).map(([name, content]) => [name, b64(content)])));
}

describe('the JIT config', () => {
  const runner = { AgentId: 23, AgentName: 'rh-1', ServerUrl: 'http://sim:8900/', WorkFolder: '_work', Ephemeral: true };
  const credentials = { Scheme: 'OAuth', Data: { token: 'secret' } };

  it('decodes into runner files and the settings actions/runner reads from .runner and .credentials', () => {
    const files = decodeJitConfig(encode({ '.runner': runner, '.credentials': credentials }));
    expect([...files.keys()]).toEqual(['.runner', '.credentials']);
    expect(settingsFrom(files)).toEqual({ agentId: 23, agentName: 'rh-1', serverUrl: 'http://sim:8900', workFolder: '_work', ephemeral: true, token: 'secret' });
  });

  it.each([
    ['not base64', 'not//base64!!'],
    ['base64 of something other than JSON', b64('hello')],
    ['a JSON array', b64([1])],
    ['a file name outside the runner root', encode({ '../etc/passwd': 'x' })],
  ])('rejects %s', (_what, encoded) => {
    expect(() => decodeJitConfig(encoded)).toThrow(JitConfigError);
  });

  it('rejects a config without a credential', () => {
    expect(() => settingsFrom(decodeJitConfig(encode({ '.runner': runner })))).toThrow(/no \.credentials/);
  });
});
