import { readFileSync } from 'node:fs';
import { type Connection, resolveConnection } from '@paddock/sdk';
import type { Command } from 'commander';

/** The connection for a command: the global --url/--token/--ca-file, then what the SDK finds (environment, local daemon). */
export function connectionFor(command: Command): Connection {
  const { url, token, caFile } = command.optsWithGlobals<{ url?: string; token?: string; caFile?: string }>();
  return withDeferredExtraCa(resolveConnection({ url, token, caFile }));
}

/**
 * `paddock` starts Node without NODE_EXTRA_CA_CERTS (paddock-launcher.mjs), so
 * Node's default trust lacks that file here. For an https daemon with no CA of
 * its own the CLI trusts what Node would have: its built-in CAs and the file
 * (a CA given to the SDK replaces the built-in ones). A file that cannot be
 * read is passed over with a warning, as Node does.
 */
function withDeferredExtraCa(conn: Connection): Connection {
  const file = process.env.PADDOCK_NODE_EXTRA_CA_CERTS;
  if (!file || conn.ca || !conn.url.startsWith('https:')) return conn;
  let extra: string;
  try {
    extra = readFileSync(file, 'utf8');
  } catch (err) {
    process.stderr.write(`paddock: ignoring the certificates in NODE_EXTRA_CA_CERTS (${file}): ${(err as { code?: string }).code ?? (err as Error).message}\n`);
    return conn;
  }
  const { rootCertificates } = process.getBuiltinModule('node:tls');
  return { ...conn, ca: [...rootCertificates, extra].join('\n') };
}
