import { createHmac, timingSafeEqual } from 'node:crypto';

/** A MAC in base64url: 43 characters for the 32 bytes of HMAC-SHA256. */
export const MAC_PATTERN = '[A-Za-z0-9_-]{43}';

/** The shortest `secret` accepted: shorter keys are guessable offline from one captured message. */
export const MIN_SECRET_BYTES = 16;

/** HMAC-SHA256 with the brokers' shared secret. */
export class Signer {
  private readonly key: Buffer;

  constructor(secret: string | Uint8Array) {
    this.key = Buffer.from(typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret);
  }

  /** The MAC of the texts, in order, in base64url. */
  mac(...texts: readonly string[]): string {
    return this.digest(texts).toString('base64url');
  }

  /** Whether `mac` (base64url, as MAC_PATTERN checked) is the MAC of the texts; in constant time. */
  verify(mac: string, ...texts: readonly string[]): boolean {
    const expected = this.digest(texts);
    const given = Buffer.from(mac, 'base64url');
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  private digest(texts: readonly string[]): Buffer {
    const hmac = createHmac('sha256', this.key);
    for (const text of texts) hmac.update(text);
    return hmac.digest();
  }
}

/** `channel` as part of a MAC's input: length first, so that no two channels and texts run together. */
export function framed(text: string): string {
  return `${text.length}:${text}\n`;
}
