export { startNatsServer, type NatsServer, type NatsServerOptions } from './nats-server.js';
export { startTcpProxy, type TcpProxy, type TcpProxyOptions } from './tcp-proxy.js';
export { createTestDatabase, type TestDatabase, type CreateTestDatabaseOptions } from './postgres.js';
export { waitFor, type WaitForOptions } from './wait-for.js';
export { NATS_URL, DATABASE_URL, REDIS_URL, DOCKER_PROXY_URL, TEST_DATABASE_ADMIN_URL } from './infra.js';
export { startServiceProcess, waitForReady, freePort, repoRoot, type ServiceProcess } from './service-process.js';
export { describeServiceChassis, type ChassisNeeds } from './service-chassis.js';
export { ensureTestImage, TEST_IMAGE } from './docker-image.js';
export { parsePrometheusText, sampleSum, sampleValue, type Sample } from './prometheus-text.js';
