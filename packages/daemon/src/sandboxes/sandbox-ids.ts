import { randomBytes } from 'node:crypto';

const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** sb- followed by 12 random lowercase letters and digits (≈62 bits). */
export function newSandboxId(): string {
  const bytes = randomBytes(12);
  let id = 'sb-';
  for (const b of bytes) id += alphabet[b % alphabet.length];
  return id;
}
