import { describeServiceChassis } from '@runnerhub/testing';

describeServiceChassis('status-reporter', { postgres: true, redis: true });
