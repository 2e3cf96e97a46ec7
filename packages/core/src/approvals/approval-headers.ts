/**
 * Headers of a request a policy asks a human about: which approved approval
 * it uses, and how many seconds it may wait for a human to decide.
 */
export const approvalHeaders = { id: 'paddock-approval', wait: 'paddock-approval-wait' } as const;
