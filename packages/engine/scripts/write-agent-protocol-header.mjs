// Writes the agent's C header from the protocol table; `make build` runs it
// after tsc and before gcc. Run from the repository's root.
import { readFileSync, writeFileSync } from 'node:fs';
import { agentProtocolHeaderPath, renderAgentProtocolHeader } from '../dist/agent/agent-protocol-header.js';

const header = renderAgentProtocolHeader();
let current = '';
try {
  current = readFileSync(agentProtocolHeaderPath, 'utf8');
} catch {
  // none yet: a fresh clone
}
// Left untouched when unchanged, so make and git see no change.
if (current !== header) writeFileSync(agentProtocolHeaderPath, header);
