import { createHash } from 'node:crypto';
import type { ToolPinState } from '@paddock/core';
import { canonicalJson } from '@paddock/core';
import type { UpstreamTool } from '@paddock/mcp/gateway';
import type { ToolPins } from './gateway-store.js';

/**
 * What a model reads of a tool and what it may send: a server that changes
 * any of it after an operator looked (tool poisoning, a rug pull) changes
 * this digest.
 */
export function toolDigest(tool: UpstreamTool): string {
  const { title, description, inputSchema, outputSchema, annotations } = tool;
  return createHash('sha256').update(canonicalJson({ title, description, inputSchema, outputSchema, annotations })).digest('hex');
}

export function pinsOf(tools: UpstreamTool[]): ToolPins {
  return Object.fromEntries(tools.map((t) => [t.name, toolDigest(t)]));
}

export function pinStateOf(tool: UpstreamTool, pins: ToolPins | null): ToolPinState {
  if (!pins) return 'unpinned';
  const pinned = pins[tool.name];
  if (pinned === undefined) return 'new';
  return pinned === toolDigest(tool) ? 'pinned' : 'changed';
}

/** Clients see a tool of a pinned server only as it was pinned. */
export function isOffered(state: ToolPinState): boolean {
  return state === 'pinned' || state === 'unpinned';
}
