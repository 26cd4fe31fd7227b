/**
 * Runner options from the command line (`--jitconfig <value>`) or from `ACTIONS_RUNNER_INPUT_<ARG>`
 * variables (case-insensitive), as actions/runner reads them. Input variables are removed from the
 * environment so the job's processes never see them.
 */
export function takeRunnerInputs(argv: readonly string[], env: NodeJS.ProcessEnv): Map<string, string> {
  const inputs = new Map<string, string>();
  for (const name of Object.keys(env)) {
    const match = /^ACTIONS_RUNNER_INPUT_(.+)$/i.exec(name);
    if (!match) continue;
    inputs.set(match[1]!.toLowerCase(), env[name] ?? '');
    delete env[name];
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) continue;
    const [flag, inline] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    if (inline !== undefined) inputs.set(flag.toLowerCase(), inline);
    else if (i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) inputs.set(flag.toLowerCase(), argv[++i]!);
    else inputs.set(flag.toLowerCase(), 'true');
  }
  return inputs;
}
