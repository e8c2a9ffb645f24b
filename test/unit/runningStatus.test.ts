// The result panel's running status line must not contradict itself (issue 12 item 4).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { noSamplesText, runningStatusText } from '../../webview/src/runningStatus';

test('a lagging iteration count from $/progress is not shown beside the newer sample counts', () => {
  // The agent's runner sends "measuring: N/M iterations" (device-agent/src/runner.ts).
  const text = runningStatusText('measuring: 209/300 iterations', 20, 214);
  assert.doesNotMatch(text, /209/);
  assert.match(text, /measuring/);
  assert.doesNotMatch(runningStatusText('209/300 iterations', 20, 214), /209/);
  assert.match(text, /20 warm-up, 214 measured/);
});

test('a progress message that is not a count is kept', () => {
  assert.match(runningStatusText('building TensorRT engine', 0, 0), /building TensorRT engine/);
  assert.equal(runningStatusText('', 3, 0), 'Running — 3 warm-up, 0 measured');
});

test('a run cancelled before any measured iteration says so, not "yet"', () => {
  assert.match(noSamplesText('cancelled'), /cancelled before any measured iteration/i);
  assert.doesNotMatch(noSamplesText('cancelled'), /yet/);
  assert.doesNotMatch(noSamplesText('failed'), /yet/);
  assert.match(noSamplesText(undefined), /yet/);
});
