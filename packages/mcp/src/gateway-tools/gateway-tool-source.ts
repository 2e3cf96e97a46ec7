import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import type { GatewayToolInfo } from '@paddock/core';
import { canonicalJson, PaddockError, parseGatewayToolName } from '@paddock/core/client';
import { describeError } from '../results/describe-error.js';
import type { ToolContext } from '../tools/tool-context.js';
import type { ToolSource } from '../tools/tool-table.js';
import { toolError } from '../tools/tool-table.js';

export interface GatewayToolOptions {
  /** How long a call a policy asks a human about waits for the answer before it returns approval_required (0). */
  approvalWaitSeconds?: number;
}

/** Approvals asked for, by call, kept for a retry of the same call. */
const maxRemembered = 100;
/** Pause before following the daemon's tool list again after the stream broke. */
const followRetryMs = 5000;

/**
 * The tools of the gateway's third-party servers, listed, followed and
 * called through the context's backend, so each call meets the daemon's
 * policy, approvals and audit log. A call a human must approve returns approval_required; the same
 * call made again once approved goes ahead on that approval (which it names
 * for the daemon), so a model needs no approval ids.
 */
export class GatewayToolSource implements ToolSource {
  private readonly asked = new Map<string, string>();

  constructor(
    private readonly context: ToolContext,
    private readonly options: GatewayToolOptions = {},
  ) {}

  async list(signal: AbortSignal): Promise<Tool[]> {
    const tools = await this.context.backend.listGatewayTools(signal);
    return tools.filter((t) => t.offered).map(toMcpTool);
  }

  /** Follows the daemon's stream of the offered tools; when it breaks, follows it again after a pause. */
  watch(onChange: () => void, signal: AbortSignal): void {
    let seen: string | undefined;
    const follow = async () => {
      while (!signal.aborted) {
        try {
          for await (const tools of this.context.backend.followGatewayTools(signal)) {
            const now = canonicalJson(tools.filter((t) => t.offered).map(toMcpTool));
            if (seen !== undefined && now !== seen) onChange();
            seen = now;
          }
        } catch {
          // The daemon went away or refused: try again below, unless the session ended.
        }
        if (!signal.aborted) await new Promise((resolve) => setTimeout(resolve, followRetryMs).unref());
      }
    };
    void follow();
  }

  claims(name: string): boolean {
    return parseGatewayToolName(name) !== undefined;
  }

  async call(name: string, args: Record<string, unknown>, signal: AbortSignal): Promise<CallToolResult> {
    const key = `${name}\0${canonicalJson(args)}`;
    const approvalId = this.asked.get(key);
    try {
      const result = await this.context.work.track(
        this.context.backend.callGatewayTool(name, args, {
          signal,
          ...(approvalId ? { approvalId } : { approvalWaitSeconds: this.options.approvalWaitSeconds }),
        }),
      );
      this.asked.delete(key);
      return result;
    } catch (err) {
      return this.failure(err, key, name);
    }
  }

  private failure(err: unknown, key: string, name: string): CallToolResult {
    if (err instanceof PaddockError && err.code === 'approval_required' && typeof err.details.approvalId === 'string') {
      this.remember(key, err.details.approvalId);
      return toolError(`${describeError(err)}; once a human approves it, call ${name} again with the same arguments`);
    }
    if (err instanceof PaddockError && err.code === 'approval_denied' && err.details.state === 'pending') {
      return toolError(`approval_pending: approval ${String(err.details.approvalId)} has not been decided yet; call ${name} again once it is`);
    }
    this.asked.delete(key);
    return toolError(describeError(err));
  }

  private remember(key: string, approvalId: string): void {
    this.asked.delete(key);
    this.asked.set(key, approvalId);
    if (this.asked.size > maxRemembered) this.asked.delete(this.asked.keys().next().value as string);
  }
}

function toMcpTool(t: GatewayToolInfo): Tool {
  return {
    name: t.name,
    ...(t.title ? { title: t.title } : {}),
    ...(t.description === undefined ? {} : { description: t.description }),
    inputSchema: t.inputSchema as Tool['inputSchema'],
    ...(t.outputSchema ? { outputSchema: t.outputSchema as Tool['outputSchema'] } : {}),
    ...(t.annotations ? { annotations: t.annotations as Tool['annotations'] } : {}),
    _meta: { 'paddock/gateway': { server: t.server, tool: t.tool } },
  };
}
