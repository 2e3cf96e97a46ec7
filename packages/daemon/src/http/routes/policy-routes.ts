import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import {
  BadRequestError,
  PolicyCheckRequestSchema,
  PolicyCheckResultSchema,
  PolicyStatusSchema,
  PolicyTestRequestSchema,
  PolicyTestResultSchema,
  RoleSchema,
} from '@paddock/core';
import { assessCommand } from '../../policy/command-risk.js';
import { compilePolicies } from '../../policy/policy-set.js';
import type { HttpEnv } from '../http-env.js';
import { errorResponses, json } from '../schemas.js';
import type { Services } from '../services.js';

const tags = ['policies'];
const listPolicies = createRoute({
  method: 'get',
  path: '/v1/policies',
  tags,
  summary: 'The policies in force, and problems of the last reload (the last good set stays in force)',
  responses: {
    200: json(PolicyStatusSchema, 'policies'),
    ...errorResponses,
  },
});

const checkPolicies = createRoute({
  method: 'post',
  path: '/v1/policies/check',
  tags,
  summary: 'Validate policy files against the schema without installing them',
  request: {
    body: {
      content: { 'application/json': { schema: PolicyCheckRequestSchema } },
      required: true,
    },
  },
  responses: { 200: json(PolicyCheckResultSchema, 'the verdict'), ...errorResponses },
});

const testPolicy = createRoute({
  method: 'post',
  path: '/v1/policies/test',
  tags,
  summary: 'Explain the decision a request would get, without doing it',
  request: { body: { content: { 'application/json': { schema: PolicyTestRequestSchema } }, required: true } },
  responses: {
    200: json(PolicyTestResultSchema, 'the decision'),
    ...errorResponses,
  },
});

export function registerPolicyRoutes(app: OpenAPIHono<HttpEnv>, s: Services): void {
  app.openapi(listPolicies, async (c) => {
    const status = await s.govern(c, { action: 'policy.read', resource: 'policy:*' }, async () => s.policy.status());
    return c.json(status, 200);
  });

  app.openapi(checkPolicies, async (c) => {
    const { files } = c.req.valid('json');
    const result = await s.govern(c, { action: 'policy.check', resource: 'policy:*', context: { files: Object.keys(files) } }, async () =>
      compilePolicies(files),
    );
    return c.json({ ok: result.problems.length === 0, policies: result.policies.length, problems: result.problems }, 200);
  });

  app.openapi(testPolicy, async (c) => {
    const body = c.req.valid('json');
    const caller = c.get('principal');
    const [role, tenant] = body.principal.split(':') as [string, string | undefined];
    const action = body.action.includes('.') ? body.action : `sandbox.${body.action}`;
    const cmd = body.cmd ?? (body.shell !== undefined ? ['sh', '-c', body.shell] : undefined);
    if (body.cmd && body.shell !== undefined) throw new BadRequestError('give cmd or shell, not both', { fields: ['cmd', 'shell'] });
    const risk = cmd ? assessCommand(cmd) : null;
    const context = { ...(body.context ?? {}), ...(cmd ? { cmd } : {}), ...(risk ? { risk: risk.score, riskTags: risk.tags } : {}) };
    const explanation = await s.govern(c, { action: 'policy.test', resource: 'policy:*', context: { principal: body.principal, action } }, () =>
      s.policy.explain({
        principal: {
          id: `test:${body.principal}`,
          role: RoleSchema.parse(role),
          tenant: tenant ?? caller.tenant,
          owner: role === 'agent' ? 'agent:test' : 'test',
        },
        action,
        resource:
          body.resource ??
          (action.startsWith('sandbox.') && action !== 'sandbox.create' ? 'sandbox:sb-test' : `template:${String(body.context?.template ?? 'base')}`),
        context,
      }),
    );
    const { decision } = explanation;
    return c.json({ decision: decision.effect, reason: decision.effect === 'allow' ? null : decision.reason, policies: explanation.policies, risk }, 200);
  });
}
