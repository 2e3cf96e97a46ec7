import { PaddockError, type PaddockErrorCode } from '@paddock/core/client';
import { z } from 'zod';

/**
 * One line that says what went wrong and names its stable code first
 * (`sandbox_not_found: sandbox sb-… not found`), which is what a model or a
 * person acts on.
 */
export function describeError(err: unknown): string {
  if (err instanceof PaddockError) return oneLine(`${err.code}: ${err.message}${fieldsOf(err.details)}${hintFor(err.code)}`);
  if (err instanceof z.ZodError) return oneLine(`invalid_request: ${err.issues.map(issueText).join('; ')}`);
  if (err instanceof Error && err.name === 'AbortError') return 'aborted: the request was cancelled';
  return oneLine(`internal_error: ${err instanceof Error ? err.message : String(err)}`);
}

function fieldsOf(details: Record<string, unknown>): string {
  const fields = details.fields;
  if (!Array.isArray(fields) || !fields.length) return '';
  const parts = fields.map((f: { path?: unknown; message?: unknown }) => (f.path ? `${String(f.path)}: ${String(f.message)}` : String(f.message)));
  return ` (${parts.join('; ')})`;
}

function hintFor(code: PaddockErrorCode): string {
  if (code === 'unauthorized') return ' (check PADDOCK_TOKEN or --token of paddock mcp)';
  if (code === 'connection_failed') return ' (is paddockd running? check PADDOCK_URL or --url of paddock mcp)';
  return '';
}

function issueText(issue: z.core.$ZodIssue): string {
  return issue.path.length ? `${issue.path.join('.')}: ${issue.message}` : issue.message;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
