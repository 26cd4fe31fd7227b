import { describeServiceChassis } from '@runnerhub/testing';

describeServiceChassis('pool-manager', { postgres: true, redis: true });
