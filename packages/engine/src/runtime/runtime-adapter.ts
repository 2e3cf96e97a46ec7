export type RuntimeStatus = 'creating' | 'created' | 'running' | 'paused' | 'stopped';

export interface RuntimeState {
  id: string;
  status: RuntimeStatus;
  /** Host pid of the sandbox's init process (0 when stopped). */
  pid: number;
  bundle: string;
}

export interface CallOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * The contract every isolation runtime fulfils, modelled on the OCI runtime
 * CLI: runc and runsc implement it directly; Kubernetes and microVM adapters
 * map it onto their own APIs.
 */
export interface RuntimeAdapter {
  readonly name: string;
  /**
   * Whether killing every process in the sandbox's cgroup ends the sandbox
   * (runc: its init dies, and with it its pid namespace), so a teardown can
   * kill that way first and then only ask the runtime to forget it
   * (`delete` with `killed`). runsc's sandbox must be ended by runsc itself.
   */
  readonly endsWithItsCgroup?: boolean;
  /** Creates the sandbox from a prepared bundle and starts its init process. */
  run(id: string, bundleDir: string, options?: CallOptions): Promise<void>;
  /** Runs a command through the runtime itself (slow path; the agent is the fast one). */
  exec(id: string, args: string[], options?: CallOptions): Promise<{ stdout: string; stderr: string }>;
  pause(id: string, options?: CallOptions): Promise<void>;
  resume(id: string, options?: CallOptions): Promise<void>;
  kill(id: string, signal: string, options?: CallOptions): Promise<void>;
  /**
   * Removes the sandbox; with force it kills it first; with killed the caller
   * has ended its processes already (see endsWithItsCgroup). Unknown ids are
   * not an error.
   */
  delete(id: string, options?: CallOptions & { force?: boolean; killed?: boolean }): Promise<void>;
  /** The runtime's view of one sandbox, or null if it does not know the id. */
  state(id: string, options?: CallOptions): Promise<RuntimeState | null>;
  list(options?: CallOptions): Promise<RuntimeState[]>;
}
