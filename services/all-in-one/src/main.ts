import { runAllInOne } from './all-in-one.js';

// `runnerhub-all-in-one`: the six services in this one process (docs/operations.md "All in one process").
await runAllInOne();
