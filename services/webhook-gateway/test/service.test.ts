import { describeServiceChassis } from '@runnerhub/testing';

describeServiceChassis('webhook-gateway', { postgres: true, redis: true, env: { GITHUB_WEBHOOK_SECRET: 'chassis-webhook-secret' }, publicRoutes: ['POST /webhooks/github'] });
