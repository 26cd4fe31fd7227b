import { describeServiceChassis, DOCKER_PROXY_URL } from '@runnerhub/testing';

describeServiceChassis('container-executor', { env: { DOCKER_HOST: DOCKER_PROXY_URL.replace(/^http:/, 'tcp:') } });
