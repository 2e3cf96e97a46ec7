import type { ApiClient } from '../api/api-client.js';
import { call } from '../api/dashboard-routes.js';
import type { SandboxInfo } from '../api/types.js';

/** The lifecycle actions a sandbox row or page offers, each one governed API call. */
export type SandboxAction = 'kill' | 'pause' | 'resume' | 'extend';

export const extendByMs = 10 * 60_000;
// The API's upper bound for a timeout (sandboxTimeoutBounds.max in @paddock/core, a run-time value kept out of the bundle).
const maxTimeoutMs = 24 * 3_600_000;

export async function runSandboxAction(api: ApiClient, sandbox: SandboxInfo, action: SandboxAction): Promise<string> {
  const args: [{ id: string }] = [{ id: sandbox.id }];
  switch (action) {
    case 'kill':
      await api.response(call('DELETE /v1/sandboxes/{id}', ...args));
      return `${sandbox.id} killed`;
    case 'pause':
      await api.response(call('POST /v1/sandboxes/{id}/pause', ...args));
      return `${sandbox.id} paused`;
    case 'resume':
      await api.response(call('POST /v1/sandboxes/{id}/resume', ...args));
      return `${sandbox.id} resumed`;
    case 'extend': {
      // The timeout counts from now: time left plus ten minutes, within the API's bound.
      const left = sandbox.expiresAt ? Math.max(0, Date.parse(sandbox.expiresAt) - Date.now()) : 0;
      await api.response(call('POST /v1/sandboxes/{id}/timeout', ...args), { body: { timeoutMs: Math.min(maxTimeoutMs, Math.round(left + extendByMs)) } });
      return `${sandbox.id} extended by 10 minutes`;
    }
  }
}
