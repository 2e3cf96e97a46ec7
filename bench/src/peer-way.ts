import type { SpawnTiming } from './timed-spawn.js';

/** The one task every peer does: an isolated environment, this command in it, its output read, the environment removed. */
export const peerCommand = ['python3', '-c', 'print(1)'];
export const peerExpected = '1\n';

/** One round of one way: until its first output, and until everything it made is gone. */
export interface PeerTiming {
  firstOutputMs: number;
  totalMs: number;
}

/** One way of doing the task (Docker, Podman, srt, Paddock …), set up and ready to be timed. */
export interface PeerWay {
  /** Series names are peers.<key>.firstOutput and peers.<key>.total. */
  key: string;
  run(): Promise<PeerTiming>;
}

/** A peer that cannot run on this machine; the reason goes into the table's note. */
export class PeerUnavailable extends Error {}

/** A spawned peer's timing, once its output is checked. */
export function checkedSpawn(what: string, r: SpawnTiming): PeerTiming {
  if (r.code !== 0 || r.stdout !== peerExpected || r.firstOutputMs === null) {
    const why = (r.stderr.trim() || JSON.stringify(r.stdout)).split('\n').slice(-3).join(' ');
    throw new Error(`${what} exited ${r.code ?? r.signal}: ${why}`);
  }
  return { firstOutputMs: r.firstOutputMs, totalMs: r.totalMs };
}

/**
 * The PATH the ways that run host processes (the host floor, sandbox-runtime)
 * give the command: the one Docker gives its containers. The bench's own PATH
 * may start with a version manager's shims (pyenv's `python3` is a shell
 * script, a second of start-up on a loaded machine), which the images do not have.
 */
export const systemPath = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** `python3 -c 'print(1)'` as one line for a shell. */
export const peerShellCommand = "python3 -c 'print(1)'";
