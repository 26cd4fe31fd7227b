import { describeServiceChassis } from '@runnerhub/testing';

describeServiceChassis('scheduler', { postgres: true, redis: true });
