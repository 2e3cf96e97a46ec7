import { once } from 'node:events';
import type { Readable } from 'node:stream';

/** Copies a stream to stdout, which must stay open (pipeline() would end it). */
export async function writeToStdout(source: Readable): Promise<void> {
  for await (const chunk of source) {
    if (!process.stdout.write(chunk as Uint8Array)) await once(process.stdout, 'drain');
  }
}
