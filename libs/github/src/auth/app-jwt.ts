import githubAppJwt from 'universal-github-app-jwt';

/**
 * The App's own credential: an RS256 JWT (`iss` = client id when set, as GitHub recommends, else the
 * App id), at most 10 minutes long, re-signed a minute before it runs out. GitHub refuses a JWT
 * whose `iat`/`exp` disagree with its clock; after such a 401 the client tells us GitHub's time
 * (its `Date` header) and we sign in GitHub's time from then on.
 */

const RESIGN_BEFORE_EXPIRY_MS = 60_000;
const CLOCK_ERROR = /'(Expiration time|Issued at)' claim/;

export class AppJwt {
  private current: { token: string; expiresAt: number } | undefined;
  /** Seconds GitHub's clock is ahead of ours. */
  private skewSeconds = 0;

  constructor(
    private readonly issuer: string | number,
    private readonly privateKey: string,
  ) {}

  async token(): Promise<string> {
    if (!this.current || this.current.expiresAt - Date.now() < RESIGN_BEFORE_EXPIRY_MS) {
      const now = Math.floor(Date.now() / 1000) + this.skewSeconds;
      const { token, expiration } = await githubAppJwt({ id: this.issuer, privateKey: this.privateKey, now });
      this.current = { token, expiresAt: (expiration - this.skewSeconds) * 1000 };
    }
    return this.current.token;
  }

  /** After a 401: sign a new one next time, in GitHub's time when the refusal was about the clock. */
  refused(githubMessage: string, serverDate: string | undefined): void {
    this.current = undefined;
    const server = Date.parse(serverDate ?? '');
    if (CLOCK_ERROR.test(githubMessage) && Number.isFinite(server)) this.skewSeconds = Math.round((server - Date.now()) / 1000);
  }

  /** A time GitHub sent (e.g. a token's `expires_at`), in our clock. */
  toLocalMs(githubMs: number): number {
    return githubMs - this.skewSeconds * 1000;
  }
}
