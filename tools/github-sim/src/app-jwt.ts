import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { GitHubHttpError } from './errors.js';

/**
 * App JWT checks with github.com's observed 401 messages (github-contract.md §4): RS256 signed by
 * the App's key, `iss` = client id or app id, `exp` at most 10 minutes ahead, `iat` an integer
 * not in the future. Clients such as @octokit/auth-app retry once using our `Date` header when
 * they see the iat/exp messages, which is how they cope with clock skew against the real API.
 */

const CANNOT_DECODE = 'A JSON web token could not be decoded';
const EXP_INVALID =
  "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires";
const EXP_TOO_FAR = "'Expiration time' claim ('exp') is too far in the future";
const IAT_INVALID = "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued";
/** github.com tolerates a little skew beyond its documented 10 minutes. */
const SKEW_SECONDS = 60;

export interface AppIdentity {
  id: number;
  clientId: string;
  publicKey: KeyObject;
}

const unauthorized = (message: string): GitHubHttpError =>
  new GitHubHttpError(401, message, 'https://docs.github.com/rest');

export function verifyAppJwt(jwt: string, app: AppIdentity, nowMs: number): void {
  const parts = jwt.split('.');
  if (parts.length !== 3) throw unauthorized(CANNOT_DECODE);
  const [header, payload, signature] = parts as [string, string, string];
  let claims: { iss?: unknown; iat?: unknown; exp?: unknown };
  try {
    const decodedHeader = JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as { alg?: string };
    if (decodedHeader.alg !== 'RS256') throw new Error('alg');
    const valid = verify('RSA-SHA256', Buffer.from(`${header}.${payload}`), app.publicKey, Buffer.from(signature, 'base64url'));
    if (!valid) throw new Error('signature');
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as typeof claims;
  } catch {
    throw unauthorized(CANNOT_DECODE);
  }
  if (String(claims.iss) !== String(app.id) && claims.iss !== app.clientId) throw unauthorized(CANNOT_DECODE);
  const now = Math.floor(nowMs / 1000);
  if (typeof claims.iat !== 'number' || !Number.isInteger(claims.iat) || claims.iat > now + SKEW_SECONDS) {
    throw unauthorized(IAT_INVALID);
  }
  if (typeof claims.exp !== 'number' || claims.exp <= now) throw unauthorized(EXP_INVALID);
  if (claims.exp > now + 600 + SKEW_SECONDS) throw unauthorized(EXP_TOO_FAR);
}

export function publicKeyOf(privateKeyPem: string): KeyObject {
  return createPublicKey(privateKeyPem);
}
