import { constants } from 'node:os';
import { exitCli } from './exit-cli.js';
import { failCli } from './fail-cli.js';

const exitSignals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** Signals, closed pipes and stray errors still run the cleanups and end with one line at most. */
export function installExitHandlers(): void {
  let exiting = false;
  for (const signal of exitSignals) {
    process.on(signal, () => {
      const code = 128 + constants.signals[signal];
      // A second Ctrl-C while the cleanups run means: stop now.
      if (exiting) process.exit(code);
      exiting = true;
      void exitCli(code);
    });
  }
  // A reader that went away (`paddock … | head`) ends the CLI as SIGPIPE would, quietly.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => void (err.code === 'EPIPE' ? exitCli(128 + constants.signals.SIGPIPE) : failCli(err)));
  process.on('uncaughtException', (err) => void failCli(err));
  process.on('unhandledRejection', (err) => void failCli(err));
}
