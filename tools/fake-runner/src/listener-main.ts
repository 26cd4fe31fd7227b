import { runAsProcess } from './process-entry.js';
import { runListener } from './runner.js';

// Entry point of the stand-in for ghcr.io/actions/actions-runner: bin/Runner.Listener execs this,
// and the image's run.sh and run-helper.sh turn its return code into the container's exit code as
// actions/runner's do.
await runAsProcess(runListener);
