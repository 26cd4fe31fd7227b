import { contractsCodec, streamDefinitions, type SubjectMessages } from '@runnerhub/contracts';
import {
  bootService,
  connectNatsFor,
  connectPostgresFor,
  connectRedisFor,
  createHttpServer,
  createPublisher,
  parseAdminTokens,
  runConsumersWhenReady,
  startHttp,
} from '@runnerhub/platform';
import { configSchema, secretSpecs } from './config.js';
import { consumeWorkflowJobs } from './consumers.js';
import { startDemandPublisher } from './demand.js';
import { registerJobRoutes } from './http.js';
import { jobsQueries } from './jobs.js';
import { startOutboxRelay } from './outbox.js';
import { watchPools } from './pools.js';

// Wiring only. Start order is the reverse of stop order: HTTP stops first, then the connections.
const base = await bootService({ service: 'scheduler', schema: configSchema, secrets: secretSpecs });
const { config, log, readiness, telemetry, secrets, lifecycle } = base;
try {
  const nc = await connectNatsFor(base, config.nats, streamDefinitions);
  const db = await connectPostgresFor(base, config.postgres, { name: 'scheduler', migrations: new URL('../migrations/', import.meta.url) });
  await connectRedisFor(base, config.redis, 'scheduler');
  const pools = await watchPools(nc, log);
  lifecycle.onStop('pool-watch', () => pools.stop());
  const publisher = createPublisher<SubjectMessages>(nc, contractsCodec);
  const relay = startOutboxRelay(db.pool, publisher, log);
  lifecycle.onStop('outbox-relay', () => relay.stop());
  const demand = startDemandPublisher({ db: db.pool, publisher, pools, log });
  lifecycle.onStop('demand', () => demand.stop());
  runConsumersWhenReady(base, [await consumeWorkflowJobs(nc, { db: db.pool, pools, relay, demand, log })]);

  const http = await createHttpServer({ service: 'scheduler', log, readiness, telemetry, adminTokens: parseAdminTokens(secrets.find('ADMIN_TOKENS')) });
  registerJobRoutes(http, jobsQueries(db.pool), pools);
  await startHttp(base, http, config.http);
  readiness.markStarted();
} catch (err) {
  await base.failStartup(err);
}
