// The one way remote shell commands are built: every argument single-quoted for a POSIX shell
// (sshd runs the command through the user's login shell), so no path or name given by a user —
// spaces, quotes, `$()`, backticks, globs, non-ASCII — is ever interpreted by the remote shell.

/** `it's` -> `'it'\''s'`: inside single quotes nothing is special except the closing quote. */
export function shellQuote(arg: string): string {
  if (arg.includes('\0')) throw new Error('a remote command argument cannot contain a NUL character');
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** A command line from a program and its arguments, each quoted. */
export function shellCommand(argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ');
}

/** A remote path relative to the home directory (`~/x` or `x`) as a shell word that expands
 * `$HOME` but nothing in the rest: `"$HOME"/'x y'`. Absolute paths are simply quoted. */
export function shellHomePath(remotePath: string): string {
  const rel = remotePath.replace(/^~(\/|$)/, '');
  if (rel.startsWith('/')) return shellQuote(rel);
  return rel === '' ? '"$HOME"' : `"$HOME"/${shellQuote(rel)}`;
}
