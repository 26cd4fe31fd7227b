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
