/** An answer in GitHub's error shape: `{ message, documentation_url }` plus optional headers. */
export class GitHubHttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly documentationUrl = 'https://docs.github.com/rest',
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  body(): { message: string; documentation_url: string } {
    return { message: this.message, documentation_url: this.documentationUrl };
  }
}

export const notFound = (): GitHubHttpError => new GitHubHttpError(404, 'Not Found');
export const badCredentials = (): GitHubHttpError => new GitHubHttpError(401, 'Bad credentials');

/**
 * The Actions service's (scale-set API's) error shape: a VSS exception `{ typeName, message }`
 * (actions/scaleset errors.go:25-32) with the other fields Azure DevOps' services send beside
 * them. `typeName` is assembly-qualified; clients match the short name (errors.go:88-97).
 */
export class ActionsServiceError extends Error {
  constructor(
    readonly status: number,
    readonly typeName: string,
    message: string,
  ) {
    super(message);
  }

  body(): Record<string, unknown> {
    const short = this.typeName.split(',')[0]!.split('.').pop()!;
    return { $id: '1', innerException: null, message: this.message, typeName: this.typeName, typeKey: short, errorCode: 0, eventId: 3000 };
  }
}

/**
 * Exception names. Observed on github.com: session conflict (actions/actions-runner-controller#4285),
 * scale set not found (#4370, #3935). Matched by the client by short name: agent exists, agent
 * not found, job still running (actions/scaleset errors.go:88-97; namespaces chosen here). The rest
 * are the simulator's choice where nothing was observed (contracts/scale-set.md "Thin facts").
 */
export const ACTIONS_EXCEPTION = {
  sessionConflict: 'GitHub.Actions.Runtime.WebApi.RunnerScaleSetSessionConflictException, GitHub.Actions.Runtime.WebApi',
  scaleSetNotFound: 'GitHub.Actions.Runtime.WebApi.RunnerScaleSetNotFoundException, GitHub.Actions.Runtime.WebApi',
  scaleSetExists: 'GitHub.Actions.Runtime.WebApi.RunnerScaleSetExistsException, GitHub.Actions.Runtime.WebApi',
  sessionNotFound: 'GitHub.Actions.Runtime.WebApi.RunnerScaleSetSessionNotFoundException, GitHub.Actions.Runtime.WebApi',
  agentExists: 'GitHub.DistributedTask.WebApi.AgentExistsException, GitHub.DistributedTask.WebApi',
  agentNotFound: 'GitHub.DistributedTask.WebApi.AgentNotFoundException, GitHub.DistributedTask.WebApi',
  jobStillRunning: 'GitHub.DistributedTask.WebApi.JobStillRunningException, GitHub.DistributedTask.WebApi',
  unauthorized: 'GitHub.Services.Common.VssUnauthorizedException, GitHub.Services.Common',
  invalidRequest: 'System.ArgumentException, System.Private.CoreLib',
  unavailable: 'GitHub.Services.WebApi.VssServiceException, GitHub.Services.WebApi',
} as const;
