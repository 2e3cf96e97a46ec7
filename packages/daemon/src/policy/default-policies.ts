/**
 * The policies a new daemon starts with, written into its policies folder on
 * first start (edit them there). Role boundaries (admin, operator, agent) are
 * enforced before any policy: these refine what a role may do.
 */
export const defaultPolicyFile = '00-defaults.cedar';

export const defaultPolicies = `// Paddock's default policies (see docs/policies.md). Edit freely: the daemon
// validates every *.cedar file in this folder and reloads on change.
// Annotations: @reason("…") is shown when a forbid denies; @ask("…") turns a
// forbid into "ask a human" (the request waits for an approval).

@id("allow-within-roles")
permit (principal, action, resource);

@id("ask-before-fetch-and-execute")
@ask("this command runs code it downloads (like curl … | sh, or exec(requests.get(…).text) in a cell): a human approves it first")
forbid (principal, action in [Paddock::Action::"sandbox.exec", Paddock::Action::"code.run"], resource)
when { context has riskTags && context.riskTags.contains("fetch-execute") };

@id("agents-write-only-in-their-space")
@reason("agents write only under /work, /tmp and /home/user")
forbid (principal, action == Paddock::Action::"sandbox.file.write", resource)
when {
  principal.role == "agent" &&
  context has path &&
  !(context.path == "/work" || context.path like "/work/*" || context.path like "/tmp/*" || context.path like "/home/user/*")
};

@id("agents-move-files-only-within-their-space")
@reason("agents write only under /work, /tmp and /home/user")
forbid (principal, action == Paddock::Action::"sandbox.file.write", resource)
when {
  principal.role == "agent" &&
  context has to &&
  !(context.to like "/work/*" || context.to like "/tmp/*" || context.to like "/home/user/*")
};

@id("agents-run-other-templates-on-gvisor")
@reason("agents start templates other than base on the gvisor tier only (ask for tier: 'gvisor')")
forbid (principal, action == Paddock::Action::"sandbox.create", resource)
when { principal.role == "agent" && context has tier && context.tier == "container" && context has template && context.template != "base" };
`;
