import { Sandbox } from '@paddock/sdk';
import type { Command } from 'commander';
import { connectionFor } from '../connection/connection-for.js';
import { onCleanup } from '../lifecycle/cleanup.js';
import { takeTerminal, terminalSize } from './attach-terminal.js';

/** `paddock takeover ID`: takes the sandbox over and joins its terminal, as `paddock shell` does; exiting the shell hands back. */
export async function takeOver(id: string, _flags: object, command: Command): Promise<void> {
  const sbx = await Sandbox.connect(id, connectionFor(command));
  const { pid, control } = await sbx.takeover(terminalSize());
  const pty = await sbx.pty.connect(pid, { onData: (data) => process.stdout.write(data) });
  process.stderr.write(
    `taken over ${id} (recording ${control.mode === 'human' ? control.sessionId : ''}); exit the shell, or run paddock handback ${id}, to give it back\n`,
  );
  const release = takeTerminal(pty);
  pty.resize(terminalSize());
  const unregister = onCleanup(async () => {
    release();
    await sbx.handback().catch(() => undefined);
  });
  try {
    const exit = await pty.wait();
    process.exitCode = exit.exitCode ?? 0;
  } finally {
    release();
    unregister();
  }
}

/** `paddock handback ID`: one line naming the recording, its size and digest. */
export async function handBack(id: string, _flags: object, command: Command): Promise<void> {
  const sbx = await Sandbox.connect(id, connectionFor(command));
  const { recording } = await sbx.handback();
  process.stdout.write(`handed back ${id}: recording ${recording.sessionId}, ${recording.bytes} bytes, sha256 ${recording.sha256}\n`);
}
