import { describe, expect, it } from 'vitest';
import { takeRunnerInputs } from './inputs.js';

describe('takeRunnerInputs', () => {
  it('reads ACTIONS_RUNNER_INPUT_<ARG> case-insensitively and removes it from the environment', () => {
    const env: NodeJS.ProcessEnv = { ACTIONS_RUNNER_INPUT_JITCONFIG: 'abc', actions_runner_input_Labels: 'x,y', PATH: '/bin' };
    const inputs = takeRunnerInputs([], env);
    expect(Object.fromEntries(inputs)).toEqual({ jitconfig: 'abc', labels: 'x,y' });
    expect(env).toEqual({ PATH: '/bin' });
  });

  it('reads --flag value, --flag=value and bare flags; the command line wins over the environment', () => {
    const inputs = takeRunnerInputs(['--jitconfig', 'cli', '--name=a=b', '--once'], { ACTIONS_RUNNER_INPUT_JITCONFIG: 'env' });
    expect(Object.fromEntries(inputs)).toEqual({ jitconfig: 'cli', name: 'a=b', once: 'true' });
  });
});
