import { runAsProcess } from './process-entry.js';
import { runRunner } from './runner.js';

// Entry point of the fake runner image: /home/runner/run.sh execs this with its arguments, and its
// exit code is run.sh's (no run-helper in this image).
await runAsProcess(runRunner);
