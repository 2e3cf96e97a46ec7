import { PaddockError } from '@paddock/sdk';
import { CliError } from '../errors/cli-error.js';

/**
 * A command a policy asks a human about fails with the approval's id and what
 * to do next, in one line. `hint` says what that is for the command at hand:
 * exec can present the approval once it is approved; run makes a new sandbox
 * each time, so its next try asks anew.
 */
export function withApprovalHint(err: unknown, hint: (id: string) => string): unknown {
  if (!(err instanceof PaddockError) || err.code !== 'approval_required') return err;
  const id = err.details.approvalId;
  if (typeof id !== 'string') return err;
  // The daemon's message ends with the id and the deadline; the id leads here already.
  // \u2014 (an em dash), so the bundle stays ASCII: see bundle-cli.mjs.
  const reason = err.message.replace(/ \u2014 approval \S+ is pending until \S+$/, '');
  return new CliError(`approval ${id} required: ${reason} (${hint(id)})`);
}
