// The README's spec-file example is a real one: the extension's and the CLI's checker accepts
// every run of it, so a user who copies it gets lenses that run, not warnings.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseSpecFile } from '../../src/specs/specFile';

const README = readFileSync(path.join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');

describe('README', () => {
  it('its spec-file example passes the spec checker, every run', () => {
    const m = /<!-- spec-example -->\s*```json\n([\s\S]*?)```/.exec(README);
    assert.ok(m, 'the README has a spec-file example after <!-- spec-example -->');
    const parsed = parseSpecFile(m[1]!, { device: 'local', warmup: 20, iterations: 100, threads: null });
    assert.deepEqual(parsed.problems, []);
    assert.ok(parsed.runs.length >= 2, 'the example shows several runs');
    for (const r of parsed.runs) assert.deepEqual(r.problems, [], `run ${r.index + 1}`);
  });
});
