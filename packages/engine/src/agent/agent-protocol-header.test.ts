import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderAgentProtocolHeader } from './agent-protocol-header.js';
import { Frame, Op, RequestField } from './agent-protocol-table.js';

const agentDir = new URL('../../agent/', import.meta.url);
const header = readFileSync(new URL('agent-protocol.h', agentDir), 'utf8');
const agentSource = readFileSync(new URL('paddock-agent.c', agentDir), 'utf8');

// The C agent and the daemon share one table (agent-protocol-table.ts); the
// header the agent compiles against is generated from it by `make build`.
describe('the agent protocol table', () => {
  it('is what the committed C header says', () => {
    expect(header).toBe(renderAgentProtocolHeader());
  });

  it('is the only place the agent takes frame letters and field keys from', () => {
    expect(agentSource).toContain('#include "agent-protocol.h"');
    expect(agentSource).not.toMatch(/\bF_[A-Z_]+\s*=\s*'/);
    expect(agentSource).not.toMatch(/case '[a-zA-Z]':/);
    expect(agentSource).not.toMatch(/strcmp\(req\.op, "/);
  });

  it('names no operation the agent does not dispatch, and every letter once', () => {
    const dispatched = new Set([...agentSource.matchAll(/strcmp\(req\.op, OP_([A-Z0-9_]+)\)/g)].map((m) => m[1]));
    const named = Object.keys(Op).map((name) => name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase());
    expect([...dispatched].sort()).toEqual(named.sort());
    expect(new Set(Object.values(Frame)).size).toBe(Object.keys(Frame).length);
    expect(new Set(Object.values(RequestField)).size).toBe(Object.keys(RequestField).length);
    for (const letter of [...Object.values(Frame), ...Object.values(RequestField)]) expect(letter).toMatch(/^[\x21-\x7e]$/);
  });
});
