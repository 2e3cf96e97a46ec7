import { agentFeatures, agentProtocolVersion, Frame, Op, RequestField } from './agent-protocol-table.js';

/** Where the agent's sources include the header from, relative to the repository. */
export const agentProtocolHeaderPath = 'packages/engine/agent/agent-protocol.h';

const cName = (prefix: string, name: string) => `${prefix}${name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;

const charEnum = (prefix: string, table: Record<string, string>) =>
  Object.entries(table)
    .map(([name, letter]) => `  ${cName(prefix, name)} = '${letter}',`)
    .join('\n');

/** The C header of the protocol table (agent-protocol-table.ts), as `make build` writes it. */
export function renderAgentProtocolHeader(): string {
  const ops = Object.entries(Op)
    .map(([name, op]) => `#define ${cName('OP_', name)} "${op}"`)
    .join('\n');
  return `// Generated from packages/engine/src/agent/agent-protocol-table.ts by
// packages/engine/scripts/write-agent-protocol-header.mjs (\`make build\`). Do not edit.
#ifndef PADDOCK_AGENT_PROTOCOL_H
#define PADDOCK_AGENT_PROTOCOL_H

#define AGENT_PROTOCOL_VERSION ${agentProtocolVersion}
#define AGENT_FEATURES "${agentFeatures.join(' ')}"

enum {
${charEnum('F_', Frame)}
};

enum {
${charEnum('K_', RequestField)}
};

${ops}

#endif
`;
}
