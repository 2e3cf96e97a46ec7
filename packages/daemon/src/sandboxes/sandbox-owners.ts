/**
 * Who a sandbox belongs to. Tenants own the sandboxes they create; the daemon
 * keeps some under owners no token is, so no tenant's API reaches them:
 * `pool:<id>` (a warm pool's ready sandboxes) and `gateway:<tenant>` (the
 * sandboxes a tenant's gateway servers run in, whose secrets and audit
 * records are that tenant's).
 */
const gatewayPrefix = 'gateway:';

export function gatewayOwner(tenant: string): string {
  return `${gatewayPrefix}${tenant}`;
}

export function isGatewayOwner(owner: string): boolean {
  return owner.startsWith(gatewayPrefix);
}

/** The tenant whose secrets a sandbox may use and whose audit records its traffic lands in. */
export function tenantOfOwner(owner: string): string {
  return isGatewayOwner(owner) ? owner.slice(gatewayPrefix.length) : owner;
}
