// `jetbench pipeline` in both modes and every memory mode on a GPU machine, through the real CLI,
// agent, native worker and ONNX Runtime (host inference). Plain JavaScript: the GPU machine has
// Node and the bundle, not the dev dependencies. Usage: node test/gpu/pipeline-modes.js [MODEL [SOURCE]]
// (SOURCE: a directory of images or a video; default synthetic scenes).
'use strict';
const { spawnSync } = require('node:child_process');
const { mkdtempSync, readFileSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const assert = require('node:assert/strict');

const model = process.argv[2] || 'tiny';
const source = process.argv[3] ? ['--source', process.argv[3]] : [];
const cli = path.resolve(__dirname, '../../dist/cli.js');
const dir = mkdtempSync(path.join(os.tmpdir(), 'jetbench-gpu-'));
const expected = {
  conventional: { pageable: ['preprocess', 'inference', 'postprocess'] },
  zerocopy: {
    pageable: ['upload_frame', 'preprocess', 'download_input', 'inference', 'upload_output', 'postprocess', 'download_detections'],
    pinned: ['upload_frame', 'preprocess', 'download_input', 'inference', 'upload_output', 'postprocess', 'download_detections'],
    mapped: ['preprocess', 'inference', 'postprocess'],
    managed: ['preprocess', 'inference', 'postprocess'],
  },
};
const detections = {};
let failures = 0;
let passes = 0;
for (const mode of ['conventional', 'zerocopy']) {
  for (const memory of ['pageable', 'pinned', 'mapped', 'managed']) {
    const out = path.join(dir, `${mode}-${memory}.json`);
    const r = spawnSync(process.execPath, [cli, 'pipeline', '--model', model, '--mode', mode, '--memory', memory, '--frames', '30', '--warmup', '3', '--frame-count', '4', ...source, '--quiet', '--out', out], { encoding: 'utf8' });
    try {
      assert.equal(r.status, 0, r.stderr);
      const run = JSON.parse(readFileSync(out, 'utf8'));
      const p = run.pipeline;
      const names = p.stages.map((s) => s.name);
      if (expected[mode][memory]) assert.deepEqual(names, expected[mode][memory]);
      for (const s of p.stages) {
        if (s.name === 'inference') assert.equal(s.where, 'cpu');
        else if (mode === 'zerocopy') assert.ok(s.where !== 'cpu' && s.clock === 'cuda-event', `${s.name} ran on the GPU, timed by CUDA events`);
        assert.equal(run.samples.stagesMs[s.name].length, run.samples.latencyMs.length);
      }
      assert.ok(p.gpu, 'the run names the GPU');
      detections[`${mode}-${memory}`] = p.detections.slice(0, 4).join(',');
      const nonInf = p.nonInferenceStats.medianMs.toFixed(3);
      passes++;
      console.log(`ok   ${mode.padEnd(12)} ${memory.padEnd(8)} stages ${names.join(' > ')} | non-inference median ${nonInf} ms | end to end ${run.stats.medianMs.toFixed(2)} ms`);
    } catch (e) {
      failures++;
      console.log(`FAIL ${mode} ${memory}: ${e.message.split('\n').slice(0, 6).join(' ')}`);
    }
  }
}
// The same frames give the same detections whichever form and memory ran them.
const distinct = new Set(Object.values(detections));
if (distinct.size > 1) {
  failures++;
  console.log(`FAIL detections differ between modes: ${JSON.stringify(detections)}`);
} else if (distinct.size === 1) {
  passes++;
  console.log(`ok   every mode and memory found the same detections per frame (${[...distinct][0]})`);
}
console.log(`${passes} passed, ${failures} failed`);
process.exit(failures ? 1 : 0);
