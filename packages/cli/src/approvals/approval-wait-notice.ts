import { formatDuration } from '@paddock/core/client';

// A command with no policy in its way starts within milliseconds; one held longer may be waiting for a human.
const graceMs = 1000;

/**
 * Says that a command given --wait-approval is waiting, from a second after it
 * was asked for until it starts (the returned function): long work shows
 * progress, as a line redrawn each second on a terminal, as one plain line
 * otherwise.
 */
export function approvalWaitNotice(waitSeconds: number | undefined, out: NodeJS.WriteStream = process.stderr): () => void {
  if (!waitSeconds) return () => {};
  const asked = Date.now();
  const limit = formatDuration(waitSeconds * 1000);
  const line = (waited: string) => `paddock: waiting for the command to start (${waited}up to ${limit}): a policy may be asking a human, see paddock approvals`;
  let shown = false;
  let ticker: NodeJS.Timeout | undefined;
  const grace = setTimeout(() => {
    shown = true;
    if (!out.isTTY) return void out.write(`${line('')}\n`);
    // The time waited comes first, so a narrow terminal cuts the explanation, not the count; one of unknown size (a pty nobody sized) reports 0 columns.
    const draw = () => out.write(`\r\x1b[2K${line(`${Math.round((Date.now() - asked) / 1000)}s of `).slice(0, (out.columns || 100) - 1)}`);
    draw();
    ticker = setInterval(draw, 1000);
    ticker.unref();
  }, graceMs);
  grace.unref();
  return () => {
    clearTimeout(grace);
    clearInterval(ticker);
    if (shown && out.isTTY) out.write('\r\x1b[2K');
    shown = false;
  };
}
