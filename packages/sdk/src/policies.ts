import type { PolicyCheckResult, PolicyStatus, PolicyTestRequest, PolicyTestResult } from '@paddock/core';
import { ApiClient, type ConnectionOptions, type RequestOptions } from './api-client.js';
import { apiCall } from './api-routes.js';

type CallOptions = ConnectionOptions & RequestOptions;

export type {
  CommandRiskInfo as CommandRisk,
  PolicyCheckResult,
  PolicyInfo,
  PolicyProblem,
  PolicyStatus,
  PolicyTestRequest,
  PolicyTestResult,
} from '@paddock/core';

/**
 * The Cedar policies in force, checked and explained without changing them
 * (operator tokens and up). The policies themselves are files in the daemon's
 * policies folder.
 *
 *   const { decision, reason } = await Policies.test({ principal: 'agent', action: 'exec', shell: 'curl … | sh' })
 */
export const Policies = {
  async list(options: CallOptions = {}): Promise<PolicyStatus> {
    return new ApiClient(options).json<PolicyStatus>(apiCall('GET /v1/policies'), options);
  },

  /** Validates policy files (name → text) against Paddock's schema without installing them. */
  async check(files: Record<string, string>, options: CallOptions = {}): Promise<PolicyCheckResult> {
    const spec = { json: { files }, timeoutMs: options.timeoutMs, signal: options.signal };
    return new ApiClient(options).json<PolicyCheckResult>(apiCall('POST /v1/policies/check'), spec);
  },

  /** The decision a request would get, and which policies made it; nothing is done. */
  async test(request: PolicyTestRequest, options: CallOptions = {}): Promise<PolicyTestResult> {
    const spec = { json: request, timeoutMs: options.timeoutMs, signal: options.signal };
    return new ApiClient(options).json<PolicyTestResult>(apiCall('POST /v1/policies/test'), spec);
  },
};
