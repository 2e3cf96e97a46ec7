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
  let digest = digests.get(tool);
  if (digest === undefined) {
    const { title, description, inputSchema, outputSchema, annotations } = tool;
    digest = createHash('sha256').update(canonicalJson({ title, description, inputSchema, outputSchema, annotations })).digest('hex');
    digests.set(tool, digest);
  }
  return digest;
}

// A listed tool is never changed in place (a new listing makes new objects), so its digest is computed once.
const digests = new WeakMap<UpstreamTool, string>();

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
