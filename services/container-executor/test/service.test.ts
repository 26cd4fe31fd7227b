import { describeServiceChassis } from '@runnerhub/testing';

describeServiceChassis('container-executor', { docker: true });
