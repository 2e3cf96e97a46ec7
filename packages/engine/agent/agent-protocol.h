// Generated from packages/engine/src/agent/agent-protocol-table.ts by
// packages/engine/scripts/write-agent-protocol-header.mjs (`make build`). Do not edit.
#ifndef PADDOCK_AGENT_PROTOCOL_H
#define PADDOCK_AGENT_PROTOCOL_H

#define AGENT_PROTOCOL_VERSION 2
#define AGENT_FEATURES "exec pty files procs attach connect"

enum {
  F_REQUEST = 'Q',
  F_DATA_IN = 'I',
  F_EOF_IN = 'E',
  F_SIGNAL = 'S',
  F_RESIZE = 'R',
  F_STARTED = 'P',
  F_STDOUT = 'O',
  F_STDERR = 'e',
  F_ENTRY = 'D',
  F_EXIT = 'X',
  F_FAIL = 'F',
  F_DROPPED = 'd',
  F_COLLECT = 'C',
};

enum {
  K_OP = 'o',
  K_ARG = 'a',
  K_ENV = 'e',
  K_CWD = 'c',
  K_USER = 'u',
  K_PATH = 'p',
  K_PATH2 = 'q',
  K_MODE = 'm',
  K_RECURSIVE = 'r',
  K_META = 'x',
  K_TARGET = 'i',
  K_OFFSETS = 'b',
  K_PTY = 't',
};

#define OP_HELLO "hello"
#define OP_PING "ping"
#define OP_EXEC "exec"
#define OP_PROCS "procs"
#define OP_ATTACH "attach"
#define OP_READ "read"
#define OP_WRITE "write"
#define OP_LIST "list"
#define OP_STAT "stat"
#define OP_REMOVE "remove"
#define OP_MKDIR "mkdir"
#define OP_RENAME "rename"
#define OP_CONNECT "connect"

#endif
