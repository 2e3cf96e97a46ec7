/**
 * The daemon ↔ agent protocol in one place: frame letters, request fields,
 * operation names, the protocol version and what this build of the agent
 * speaks. The C agent takes them from agent/agent-protocol.h, which
 * agent-protocol-header.ts renders from this table (`make build` writes it
 * before compiling the agent; a test holds the committed header to it).
 */

/** Frame types; each is one byte on the wire. */
export const Frame = {
  /** Daemon → agent: the request, the first frame of a connection. */
  request: 'Q',
  dataIn: 'I',
  eofIn: 'E',
  signal: 'S',
  resize: 'R',
  started: 'P',
  stdout: 'O',
  stderr: 'e',
  entry: 'D',
  exit: 'X',
  fail: 'F',
  /** Agent → daemon: output no longer kept was left out here ("stdout <bytes>"). */
  dropped: 'd',
  /** Daemon → agent: the exit was received; the command's supervisor may go. */
  collect: 'C',
} as const;

/** The "k:value" fields of a request; each key is one byte. */
export const RequestField = {
  op: 'o',
  arg: 'a',
  env: 'e',
  cwd: 'c',
  user: 'u',
  path: 'p',
  path2: 'q',
  mode: 'm',
  recursive: 'r',
  meta: 'x',
  target: 'i',
  offsets: 'b',
  pty: 't',
} as const;

/** Operations, the value of the request's `o` field. */
export const Op = {
  hello: 'hello',
  ping: 'ping',
  exec: 'exec',
  procs: 'procs',
  attach: 'attach',
  read: 'read',
  write: 'write',
  list: 'list',
  stat: 'stat',
  remove: 'remove',
  mkdir: 'mkdir',
  rename: 'rename',
  /** A TCP connection to a port on the sandbox's loopback, relayed as raw bytes once started. */
  connect: 'connect',
} as const;

/**
 * What `hello` answers. An agent from before `hello` refuses it and counts as
 * version 0, with none of the features below. Raise the version and add a
 * feature when the agent learns something the daemon must not assume of an
 * older one (a sandbox started before an upgrade keeps its old agent).
 */
export const agentProtocolVersion = 2;

/** Features this build of the agent has; the daemon asks for them by name. */
export const agentFeatures = ['exec', 'pty', 'files', 'procs', 'attach', 'connect'] as const;

export type AgentFeature = (typeof agentFeatures)[number];
