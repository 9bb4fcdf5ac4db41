import { createHmac, randomBytes } from 'node:crypto';

const PREFIX = 'whsec_';

/** `whsec_` + base64 of 32 random bytes, as Standard Webhooks libraries expect. */
export const newWebhookSecret = () => PREFIX + randomBytes(32).toString('base64');

/** One `v1,<base64 HMAC-SHA256>` signature of `{id}.{timestamp}.{body}` (Standard Webhooks). */
function signWebhook(secret: string, id: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret, 'base64');
  return 'v1,' + createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
}

/** The `webhook-signature` header: one signature per secret in use (two during a rotation), space-separated. */
export const signatureHeader = (secrets: string[], id: string, timestamp: number, body: string) =>
  secrets.map((s) => signWebhook(s, id, timestamp, body)).join(' ');
