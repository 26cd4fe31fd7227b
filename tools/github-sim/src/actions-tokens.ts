import { randomBytes, randomUUID } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';
import type { SimClock } from './clock.js';
import type { Installation, Repo } from './world.js';

/**
 * The credentials of the scale-set auth chain (contracts/scale-set.md §1): registration tokens
 * (REST, an hour), the Actions service's admin token (a JWT whose `exp` clients read to refresh
 * ahead: actions/scaleset client.go:961-975) and the message-queue tokens of sessions. Every
 * expiry runs on the simulator's clock, so tests reach it with `advanceClock`.
 */

/** What a registration or admin token may act on: a repository, or an organization's own runners. */
export interface TenantScope {
  installation: Installation;
  repo: Repo | null;
}

export interface IssuedToken {
  token: string;
  /** Epoch ms, simulator clock. */
  expiresAt: number;
}

/** GitHub's registration tokens live an hour (github-contract.md §5). */
const REGISTRATION_TOKEN_MS = 3_600_000;

export class ActionsTokens {
  private readonly registration = new Map<string, TenantScope & { expiresAt: number }>();
  /** Admin tokens by `jti`: the JWT carries the expiry, the record lets a test expire it early. */
  private readonly admin = new Map<string, TenantScope & { expiresAt: number }>();
  private readonly secret = randomBytes(32);
  /** Admin JWTs issued so far (tests read how often a client went through the chain). */
  adminTokensIssued = 0;

  constructor(
    private readonly clock: SimClock,
    private readonly adminTokenMs: () => number,
  ) {}

  issueRegistrationToken(scope: TenantScope): IssuedToken {
    // GitHub's look like AABF3JGZDX3P5PMEXLND6TS6FCWO6: 29 characters of upper-case base32.
    const token = `A${randomBytes(18).toString('base64').replace(/[^A-Za-z]/g, '').toUpperCase()}`.slice(0, 29).padEnd(29, 'Q');
    const expiresAt = this.clock.now() + REGISTRATION_TOKEN_MS;
    this.registration.set(token, { ...scope, expiresAt });
    return { token, expiresAt };
  }

  registrationScope(token: string): TenantScope | undefined {
    const record = this.registration.get(token);
    if (!record || record.expiresAt <= this.clock.now()) return undefined;
    return record;
  }

  async issueAdminToken(scope: TenantScope): Promise<IssuedToken> {
    const now = this.clock.now();
    const expiresAt = now + this.adminTokenMs();
    const jti = randomUUID();
    const token = await new SignJWT({ scp: scope.repo ? `repo:${scope.repo.fullName}` : `org:${scope.installation.account.login}` })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer('https://github-sim/actions')
      .setAudience('vso:runner-scale-sets')
      .setIssuedAt(Math.floor(now / 1000))
      .setNotBefore(Math.floor(now / 1000) - 60)
      .setExpirationTime(Math.floor(expiresAt / 1000))
      .setJti(jti)
      .sign(this.secret);
    this.admin.set(jti, { ...scope, expiresAt });
    this.adminTokensIssued += 1;
    return { token, expiresAt };
  }

  /** The scope of a live admin token; undefined for a forged, unknown or expired one. */
  async adminScope(token: string): Promise<TenantScope | undefined> {
    try {
      const { payload } = await jwtVerify(token, this.secret, { currentDate: new Date(this.clock.now()), audience: 'vso:runner-scale-sets' });
      const record = payload.jti ? this.admin.get(payload.jti) : undefined;
      return record && record.expiresAt > this.clock.now() ? record : undefined;
    } catch {
      return undefined;
    }
  }

  /** A fault: every admin token issued so far stops working now. */
  expireAdminTokens(): void {
    const now = this.clock.now();
    for (const record of this.admin.values()) record.expiresAt = Math.min(record.expiresAt, now);
  }
}
