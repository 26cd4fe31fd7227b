import { parseArgs } from 'node:util';
import { startVaultFake } from './vault-fake.js';

// `node --import tsx tools/vault-fake/src/main.ts --port 8200 --root-token root` for local runs.
const { values } = parseArgs({ options: { port: { type: 'string', default: '8200' }, 'root-token': { type: 'string', default: 'root' } } });
const fake = await startVaultFake({ port: Number(values.port), rootToken: values['root-token'] });
console.log(`vault-fake listening on ${fake.url} (root token: ${fake.rootToken}); KV v2 at secret/`);
process.once('SIGINT', () => void fake.stop());
process.once('SIGTERM', () => void fake.stop());
