/** host[:port] or [v6]:port → parts; undefined when malformed. */
export function splitAuthority(text: string): { host: string; port?: number } | undefined {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  const [, host, portText] = v6 ?? /^([^:]+)(?::(\d+))?$/.exec(text) ?? [];
  if (!host) return undefined;
  const port = portText === undefined ? undefined : Number(portText);
  if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65_535)) return undefined;
  return { host, port };
}
