import type { components } from '@octokit/openapi-types';
import type { GitHubClient } from './client.js';

export type Installation = components['schemas']['installation'];
export type Repository = components['schemas']['repository'];

/** The App's installation on a repository (App JWT). */
export async function repoInstallation(gh: GitHubClient, owner: string, repo: string): Promise<Installation> {
  return (await gh.request<Installation>('app', 'GET /repos/{owner}/{repo}/installation', { owner, repo })).data;
}

/** The App's installation on an organization (App JWT). */
export async function orgInstallation(gh: GitHubClient, org: string): Promise<Installation> {
  return (await gh.request<Installation>('app', 'GET /orgs/{org}/installation', { org })).data;
}

export function listInstallations(gh: GitHubClient): AsyncGenerator<Installation> {
  return gh.paginate('app', 'GET /app/installations', {}, (data) => data as Installation[]);
}

export function listInstallationRepositories(gh: GitHubClient, installationId: number): AsyncGenerator<Repository> {
  return gh.paginate({ installationId }, 'GET /installation/repositories', {}, (data) => (data as { repositories: Repository[] }).repositories);
}
