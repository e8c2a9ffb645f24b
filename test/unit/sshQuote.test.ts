// Remote commands are built by quoting every argument for a POSIX shell: checked by running the
// quoted words through a real `sh` and reading back the arguments it passes on.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { shellCommand, shellHomePath, shellQuote } from '../../src/core/sshQuote';

const NASTY = [
  'plain',
  'with space',
  "it's",
  '"double"',
  '$(touch PWNED)',
  '`touch PWNED`',
  '$HOME and ${HOME}',
  'semi; touch PWNED',
  'glob * ? [a]',
  'back\\slash',
  'newline\nsecond line',
  'ünïcödé 模型 🚀',
  "'",
  '',
  '-n',
  '~/tilde',
];

/** The arguments a real shell passes to a program for this command line. */
function argvThroughShell(commandLine: string, cwd: string): string[] {
  const r = spawnSync('sh', ['-c', `${commandLine}`], { cwd, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as string[];
}

test('every argument reaches the program exactly as given, and nothing is executed', () => {
  const cwd = mkdtempSync(path.join(os.tmpdir(), 'jetbench-quote-'));
  const printArgs = [process.execPath, '-e', 'process.stdout.write(JSON.stringify(process.argv.slice(1)))'];
  const got = argvThroughShell(shellCommand([...printArgs, ...NASTY]), cwd);
  assert.deepEqual(got, NASTY);
  assert.deepEqual(readdirSync(cwd), [], 'no command substitution ran');
});

test('quoting is single quotes with embedded quotes closed and escaped', () => {
  assert.equal(shellQuote("it's"), `'it'\\''s'`);
  assert.equal(shellQuote(''), "''");
  assert.throws(() => shellQuote('nul\0byte'), /NUL/);
});

test('home-relative paths expand $HOME only', () => {
  const cwd = mkdtempSync(path.join(os.tmpdir(), 'jetbench-quote-'));
  const echo = (word: string) => spawnSync('sh', ['-c', `printf %s ${word}`], { cwd, encoding: 'utf8', env: { ...process.env, HOME: '/h o/me' } }).stdout;
  assert.equal(echo(shellHomePath('.jetbench')), '/h o/me/.jetbench');
  assert.equal(echo(shellHomePath("~/odd $(touch PWNED) 'q'")), "/h o/me/odd $(touch PWNED) 'q'");
  assert.equal(echo(shellHomePath('/abs/$HOME')), '/abs/$HOME');
  assert.equal(echo(shellHomePath('~')), '/h o/me');
  assert.deepEqual(readdirSync(cwd), []);
});
