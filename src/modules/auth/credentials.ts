import { createHash, createSecretKey, type KeyObject, randomBytes } from 'node:crypto';
import { hash as argonHash, verify as argonVerify, Algorithm } from '@node-rs/argon2';
import jwt from 'jsonwebtoken';

// OWASP's argon2id baseline: 19 MiB, 2 iterations, 1 lane.
const ARGON = { algorithm: Algorithm.Argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

export const hashPassword = (password: string) => argonHash(password, ARGON);

export async function verifyPassword(hash: string | null, password: string): Promise<boolean> {
  if (!hash) return false;
  try {
    return await argonVerify(hash, password);
  } catch {
    return false;
  }
}

// Verified against when an email is unknown, so that the answer takes as long as for a known one.
let dummyHash: Promise<string> | undefined;
export async function burnPasswordCheck(password: string): Promise<void> {
  dummyHash ??= hashPassword(randomBytes(16).toString('hex'));
  await verifyPassword(await dummyHash, password);
}

export const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export const API_KEY_PREFIX = 'trl_';
/** `trl_` + 256 random bits, base64url. Only its SHA-256 is stored. */
export const newApiKeySecret = () => API_KEY_PREFIX + randomBytes(32).toString('base64url');
export const newRefreshToken = () => randomBytes(32).toString('base64url');

const JWT_ISSUER = 'trellis';
const JWT_AUDIENCE = 'trellis-api';
const JWT_ALGORITHM = 'HS256';

interface AccessClaims {
  sub: string;
  wid: string;
  /**
   * The session (refresh token family) the token was issued for: ending the session (log-out, a
   * replayed refresh token, a password change) ends the token with it. Absent from tokens issued
   * before sessions were named; those end only at their `exp`.
   */
  sid?: string;
}

export function signAccessToken(claims: AccessClaims, secret: string, ttlSeconds: number): string {
  return jwt.sign(claims.sid ? { wid: claims.wid, sid: claims.sid } : { wid: claims.wid }, secret, {
    algorithm: JWT_ALGORITHM,
    expiresIn: ttlSeconds,
    issuer: JWT_ISSUER,
    audience: JWT_AUDIENCE,
    subject: claims.sub,
  });
}

// Given a string, jsonwebtoken first tries to parse it as a public key (createPublicKey) on every
// call, a few percent of the CPU of a busy server; a KeyObject skips that.
const secretKeys = new Map<string, KeyObject>();
function secretKey(secret: string): KeyObject {
  let key = secretKeys.get(secret);
  if (!key) secretKeys.set(secret, (key = createSecretKey(Buffer.from(secret, 'utf8'))));
  return key;
}

/**
 * Verifies an access token: the algorithm is pinned (no `none`, no RS/HS confusion), and issuer,
 * audience and expiry are required, since jsonwebtoken checks them only when told to.
 */
export function verifyAccessToken(token: string, secret: string): (AccessClaims & { exp: number }) | null {
  try {
    const payload = jwt.verify(token, secretKey(secret), { algorithms: [JWT_ALGORITHM], issuer: JWT_ISSUER, audience: JWT_AUDIENCE, clockTolerance: 5 });
    if (typeof payload !== 'object' || payload === null) return null;
    if (typeof payload.exp !== 'number' || typeof payload.sub !== 'string' || typeof payload.wid !== 'string') return null;
    if (payload.sid !== undefined && typeof payload.sid !== 'string') return null;
    return { sub: payload.sub, wid: payload.wid, sid: payload.sid, exp: payload.exp };
  } catch {
    return null;
  }
}
