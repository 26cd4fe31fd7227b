import { x } from '@runnerhub/platform'; console.log('x=', x);
