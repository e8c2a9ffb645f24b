// Run Benchmark's model pick must not offer the test suites' artefacts (issue 12: test-output/).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { MODEL_SEARCH_EXCLUDE, MODEL_SEARCH_INCLUDE } from '../../src/commands/modelSearch';

// path.matchesGlob is experimental in Node 20/22 but follows the same brace/globstar rules as
// VS Code's findFiles for these patterns.
const offered = (rel: string): boolean => path.matchesGlob(rel, MODEL_SEARCH_INCLUDE) && !path.matchesGlob(rel, MODEL_SEARCH_EXCLUDE);

test('model pick offers the user\'s .onnx files', () => {
  assert.equal(offered('models/yolov5s.onnx'), true);
  assert.equal(offered('my.onnx'), true);
});

test('model pick leaves out test-output/, node_modules/ and .git/', () => {
  for (const rel of ['test-output/cache/models/tiny.onnx', 'test-output/e2e/w/x.onnx', 'node_modules/onnxruntime-node/a.onnx', 'sub/node_modules/b.onnx', '.git/c.onnx']) {
    assert.equal(offered(rel), false, rel);
  }
});
