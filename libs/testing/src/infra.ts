// Where the shared test infrastructure answers (scripts/infra.sh starts it). Every value can be
// overridden from the environment so the same tests run against another machine or port.

export const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://runnerhub:runnerhub@127.0.0.1:5432/runnerhub';
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
// The Docker socket proxy (deploy/socket-proxy/haproxy.cfg), never the raw socket.
export const DOCKER_PROXY_URL = process.env.DOCKER_PROXY_URL ?? 'http://127.0.0.1:2375';
// A role that may create databases; createTestDatabase() makes one database per test file here.
export const TEST_DATABASE_ADMIN_URL = process.env.TEST_DATABASE_ADMIN_URL ?? DATABASE_URL;
