/**
 * The Cedar schema every policy is validated against at load: who acts
 * (a Token of a Tenant, with its role), on what (sandboxes, templates,
 * tenants, tokens, the audit log), and the context each request carries.
 */
const sandboxActions = [
  'sandbox.get',
  'sandbox.kill',
  'sandbox.timeout',
  'sandbox.pause',
  'sandbox.resume',
  'sandbox.exec',
  'sandbox.attach',
  'sandbox.process.list',
  'sandbox.process.get',
  'sandbox.process.output',
  'sandbox.process.signal',
  'sandbox.process.stdin',
  // A cell of code run in a code context: context.code is the cell (never audited: the log keeps codeDigest and codeSummary), context.language its kernel.
  'code.run',
  // Making, listing, restarting, interrupting or removing code contexts; context.op says which.
  'sandbox.code.context',
  'sandbox.file.read',
  'sandbox.file.write',
  'sandbox.snapshot',
  'sandbox.fork',
  'sandbox.checkpoint',
  'sandbox.rollback',
  'sandbox.network.get',
  'sandbox.network.update',
  // Ports: listing them, making or revoking a public link, and each connection ingress opens (context.port, context.client, context.op).
  'sandbox.port.list',
  'sandbox.port.expose',
  'sandbox.port.open',
  // A person taking a sandbox over from its agent (a recorded terminal), handing it back, and reading the recordings.
  'sandbox.takeover',
  'sandbox.handback',
  'sandbox.recording.read',
  // The desktop of a sandbox: seeing its screen (and cursor, windows, clipboard), and acting on it (mouse, keys,
  // typed text, launching apps, setting the clipboard); context.op names the call, context.window the focused window's title,
  // context.url and context.domain the browser page's when the browser's window has the focus (all as the sandbox says).
  'desktop.screenshot',
  'desktop.input',
  // The sandbox's browser: starting it, and each DevTools (CDP) connection through ingress.
  'browser.cdp',
  // Each connection a sandbox opens through the egress proxy; the principal is the sandbox (role agent).
  'network.connect',
];
const collectionActions: Record<string, string> = {
  'sandbox.create': 'Template',
  'sandbox.list': 'Sandbox',
  'template.list': 'Template',
  'template.get': 'Template',
  'template.build': 'Template',
  'template.remove': 'Template',
  'tenant.create': 'Tenant',
  'tenant.list': 'Tenant',
  'tenant.get': 'Tenant',
  'tenant.update': 'Tenant',
  'tenant.delete': 'Tenant',
  'token.create': 'Tenant',
  'token.list': 'Tenant',
  'token.revoke': 'Token',
  'audit.read': 'Audit',
  'audit.verify': 'Audit',
  'policy.read': 'PolicyStore',
  'policy.check': 'PolicyStore',
  'policy.test': 'PolicyStore',
  'approval.list': 'Approval',
  'approval.get': 'Approval',
  'approval.approve': 'Approval',
  // A person approving a request of their own (an install with one human); forbid it here to turn it off for some.
  'approval.self_approve': 'Approval',
  'approval.deny': 'Approval',
  // The token that asked withdraws its pending request.
  'approval.cancel': 'Approval',
  'pool.set': 'Pool',
  'pool.list': 'Pool',
  'pool.remove': 'Pool',
  'system.gc': 'System',
  'system.check': 'System',
  'secret.set': 'Secret',
  'secret.list': 'Secret',
  'secret.get': 'Secret',
  'secret.remove': 'Secret',
  // Logins to image registries; context.host names the registry.
  'registry.login': 'Registry',
  'registry.list': 'Registry',
  'registry.logout': 'Registry',
  'volume.create': 'Volume',
  'volume.list': 'Volume',
  'volume.get': 'Volume',
  'volume.delete': 'Volume',
  // Each volume a sandbox is created with; context.path is where, context.op ro or rw.
  'volume.mount': 'Volume',
  // Files of a volume reached without a sandbox; context.path names the file, context.op the operation (list, stat, remove, mkdir).
  'volume.read': 'Volume',
  'volume.write': 'Volume',
  'gateway.server.set': 'McpServer',
  'gateway.server.list': 'McpServer',
  'gateway.server.get': 'McpServer',
  'gateway.server.remove': 'McpServer',
  'gateway.server.restart': 'McpServer',
  'gateway.server.pin': 'McpServer',
  'gateway.tool.list': 'McpServer',
  // Each call of a gateway tool; context.server and context.tool name it, context.argsDigest its arguments.
  'mcp.tool.call': 'McpServer',
  // A client opening an MCP session (/mcp); its tool calls are decided as the API actions they make.
  'mcp.session.open': 'McpSession',
};

/** Every action name the API authorizes, as Cedar sees it (Paddock::Action::"…"). */
export const cedarActions = [...sandboxActions, ...Object.keys(collectionActions)];

const action = (name: string, resource: string) => `  action "${name}" appliesTo { principal: Token, resource: ${resource}, context: RequestContext };`;

export const cedarSchema = `namespace Paddock {
  entity Tenant;
  // scoped: a capability token; its scope's fields (each absent when the scope leaves it open) let policies narrow further.
  entity Token in [Tenant] {
    role: String,
    tenant: String,
    owner: String,
    ownerKind: String,
    scoped: Bool,
    scopeSandboxes?: Set<String>,
    scopeLabels?: Set<String>,
    scopeActions?: Set<String>,
    scopeTemplates?: Set<String>,
    scopeTiers?: Set<String>,
    maxUses?: Long,
    maxSandboxes?: Long,
    expiresAt?: String,
  };
  entity Sandbox in [Tenant] { tenant: String };
  entity Template;
  entity Audit;
  entity PolicyStore;
  entity Approval;
  entity Pool;
  entity System;
  entity Secret;
  entity Registry;
  entity McpServer in [Tenant];
  entity McpSession;
  entity Volume in [Tenant];
  type RequestContext = {
    tenant?: String,
    template?: String,
    tier?: String,
    labels?: Set<String>,
    argv?: Set<String>,
    command?: String,
    program?: String,
    user?: String,
    path?: String,
    to?: String,
    op?: String,
    role?: String,
    owner?: String,
    risk?: Long,
    riskTags?: Set<String>,
    host?: String,
    port?: Long,
    hosts?: Set<String>,
    images?: Set<String>,
    registries?: Set<String>,
    secrets?: Set<String>,
    network?: String,
    server?: String,
    tool?: String,
    argsDigest?: String,
    files?: Set<String>,
    volumes?: Set<String>,
    client?: String,
    code?: String,
    language?: String,
    window?: String,
    url?: String,
    domain?: String,
    actions?: Set<String>,
    chars?: Long,
  };
${sandboxActions.map((a) => action(a, 'Sandbox')).join('\n')}
${Object.entries(collectionActions)
  .map(([a, r]) => action(a, r))
  .join('\n')}
}
`;
