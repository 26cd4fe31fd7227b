import { main } from './cli.js';

// The bin's entry (bin/runnerhub-doctor.js, `make doctor`).
process.exitCode = await main(process.argv.slice(2), process.env, (text) => process.stdout.write(`${text}\n`));
