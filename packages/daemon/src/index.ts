// Building blocks the benchmarks time in-process.
export { ApprovalService } from './approvals/approval-service.js';
export { SqliteAuditLog } from './audit/audit-log.js';
export { principalOf } from './auth/token-auth.js';
export { TokenScopeGuard } from './auth/token-scope-guard.js';
export { cgroupParentFor, type DaemonCommand, type DaemonConfig, defaultPort, loadConfig, parseDaemonCommand } from './config/daemon-config.js';
export { type Endpoint, type RunningDaemon, startDaemon } from './daemon.js';
export { makeGovern, makeGovernAs } from './http/governed.js';
export { CedarAuthorizer } from './policy/cedar-authorizer.js';
export { ensurePolicyDir } from './policy/policy-set.js';
export { RoleAuthorizer } from './policy/role-authorizer.js';
export { SpliceHelper } from './splice/splice-helper.js';
export { openDatabase } from './store/database.js';
export { TokenStore } from './store/tenant-store.js';
