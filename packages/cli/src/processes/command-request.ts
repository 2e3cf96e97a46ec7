/** A command to run in a sandbox, and how. */
export interface CommandRequest {
  cmd: string[];
  interactive?: boolean;
  tty?: boolean;
  user?: string;
  cwd?: string;
  env?: Record<string, string>;
  /** Kills the command after this long. */
  timeoutMs?: number;
  /** When its time is up (epoch ms), counted from before anything was asked of the daemon. */
  deadlineAt?: number;
  /** How long the daemon may hold the command while a human decides (seconds). */
  approvalWaitSeconds?: number;
  /** An approved approval for this very command. */
  approvalId?: string;
}
