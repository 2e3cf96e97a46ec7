import type { Files } from '@paddock/sdk';

/** Reads at most `maxBytes` of a file as UTF-8, stopping the download there. */
export async function readTextCapped(files: Files, path: string, maxBytes: number, signal?: AbortSignal): Promise<{ content: string; truncated: boolean }> {
  const stream = await files.read(path, { format: 'stream', signal });
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let truncated = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
      if (size > maxBytes) {
        truncated = true;
        break;
      }
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  const bytes = Buffer.concat(chunks).subarray(0, maxBytes);
  return { content: new TextDecoder().decode(bytes), truncated };
}
