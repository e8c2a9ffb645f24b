// What Add Device reads: Host aliases of an OpenSSH client config (~/.ssh/config) and a typed
// user@host:port. Pure code, unit-tested.

/** Host aliases a user can connect to as written: patterns (`*`, `?`, `!`) are not hosts. */
export function sshConfigHosts(text: string): string[] {
  const hosts: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/#.*/, '').trim();
    // "Host a b", "Host=a", "host a": keyword is case-insensitive, separated by space or '='.
    const m = /^host(?:\s*=\s*|\s+)(.+)$/i.exec(line);
    if (!m) continue;
    for (const name of m[1]!.split(/\s+/)) {
      const alias = name.replace(/^"(.*)"$/, '$1');
      if (alias && !/[*?!]/.test(alias) && !hosts.includes(alias)) hosts.push(alias);
    }
  }
  return hosts;
}

/** "user@host:port" (each part but the host optional) as typed into Add Device. */
export function parseSshTarget(text: string): { host: string; user: string | null; port: number | null } | null {
  const m = /^(?:([^@\s]+)@)?([^@:\s]+|\[[0-9a-fA-F:]+\])(?::(\d{1,5}))?$/.exec(text.trim());
  if (!m) return null;
  const port = m[3] ? Number(m[3]) : null;
  if (port !== null && (port < 1 || port > 65535)) return null;
  return { user: m[1] ?? null, host: m[2]!.replace(/^\[|\]$/g, ''), port };
}
