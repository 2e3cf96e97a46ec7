import type { Files } from '@paddock/sdk';

/** Reads at most `maxBytes` of a file, streaming, so a huge file costs no more than the cap. */
export async function readCapped(
  files: Files,
  path: string,
  maxBytes: number,
  options: { user?: string; signal?: AbortSignal } = {},
): Promise<{ bytes: Uint8Array; truncated: boolean }> {
  const stream = await files.read(path, { format: 'stream', user: options.user, signal: options.signal });
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let truncated = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (size + value.byteLength > maxBytes) {
        chunks.push(value.subarray(0, maxBytes - size));
        size = maxBytes;
        truncated = true;
        break;
      }
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    // Stops the download of the rest; an error here changes nothing for the caller.
    if (truncated) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
  return { bytes: Buffer.concat(chunks, size), truncated };
}
