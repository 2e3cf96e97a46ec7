import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';

const keyBytes = 32;
const ivBytes = 12;
const tagBytes = 16;

/** The key secrets are sealed with: made on first start, 0600, never logged or sent. */
export function loadOrCreateSecretKey(file: string): Buffer {
  try {
    const key = readFileSync(file);
    if (key.length !== keyBytes) throw new Error(`${file} is not a ${keyBytes}-byte key`);
    return key;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    const key = randomBytes(keyBytes);
    writeFileSync(file, key, { mode: 0o600, flag: 'wx' });
    chmodSync(file, 0o600);
    return key;
  }
}

/**
 * AES-256-GCM. The associated data names the owner and secret, so a sealed
 * value copied onto another row of the table does not open.
 */
export class SecretCipher {
  constructor(private readonly key: Buffer) {}

  seal(plain: string, associated: string): Buffer {
    const iv = randomBytes(ivBytes);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(associated));
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]);
  }

  open(sealed: Buffer, associated: string): string {
    const decipher = createDecipheriv('aes-256-gcm', this.key, sealed.subarray(0, ivBytes));
    decipher.setAAD(Buffer.from(associated));
    decipher.setAuthTag(sealed.subarray(ivBytes, ivBytes + tagBytes));
    return Buffer.concat([decipher.update(sealed.subarray(ivBytes + tagBytes)), decipher.final()]).toString('utf8');
  }
}
