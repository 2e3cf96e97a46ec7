import { constants } from 'node:os';
import { formatDuration } from '@paddock/core/client';

export interface ProcessEnd {
  exitCode: number;
  signal: string | null;
  oomKilled: boolean;
  timedOut: boolean;
}

/**
 * The code to exit with, as a shell reports it: the exit code, or 128 + the
 * number of the killing signal.
 */
export function exitStatus(end: ProcessEnd, deadlineAt?: number, timeoutMs?: number): number {
  // A command of `run` shares its deadline with its sandbox, whose expiry kills it without marking it timed out.
  const deadlinePassed = deadlineAt !== undefined && Date.now() >= deadlineAt;
  reportAbnormalEnd({ ...end, timedOut: end.timedOut || (deadlinePassed && end.signal === 'SIGKILL') }, timeoutMs);
  const signalNumber = end.signal ? constants.signals[end.signal as NodeJS.Signals] : undefined;
  if (signalNumber !== undefined && end.exitCode < 128) return 128 + signalNumber;
  return end.exitCode < 0 ? 1 : end.exitCode;
}

/** An exit code alone does not say why Paddock stopped the command; this line does. */
function reportAbnormalEnd(end: ProcessEnd, timeoutMs?: number): void {
  if (end.oomKilled) process.stderr.write('paddock: the command was killed: out of memory\n');
  else if (end.timedOut) process.stderr.write(`paddock: the command timed out${timeoutMs ? ` after ${formatDuration(timeoutMs)}` : ''} and was killed\n`);
}
