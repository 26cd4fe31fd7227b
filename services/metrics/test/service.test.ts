import { describeServiceChassis } from '@runnerhub/testing';

describeServiceChassis('metrics', {});
