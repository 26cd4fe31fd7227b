export { startVaultFake } from './vault-fake.js';
export type { VaultFake, AppRoleSpec, PolicySpec } from './vault-fake.js';
