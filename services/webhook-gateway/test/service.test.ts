import { describeServiceChassis } from '@runnerhub/testing';

describeServiceChassis('webhook-gateway', { postgres: true, redis: true });
