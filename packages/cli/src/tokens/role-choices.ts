import type { Role } from '@paddock/sdk';

// The roles come from core's RoleSchema; a record keyed by Role makes the build
// fail when a role is added there and not here, without loading zod at run time.
const knownRoles: Record<Role, true> = { admin: true, operator: true, agent: true };

export const roleChoices = Object.keys(knownRoles) as Role[];
