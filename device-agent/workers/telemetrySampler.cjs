// The telemetry sampler's thread (issue 14), plain CommonJS so it needs no bundling: reads the
// given sysfs files synchronously at the given rate and posts their values with the time. It runs
// in a worker thread because ONNX Runtime's session.run holds the agent's main thread for the whole
// inference: timers there fire only between inferences (measured: 19 Hz when 100 Hz was asked,
// with a 52 ms model). Files and their meaning come from device-agent/src/telemetry/sensors.ts.
'use strict';
const { readFileSync } = require('node:fs');
const { parentPort, workerData } = require('node:worker_threads');

function readNumber(file) {
  try {
    const text = readFileSync(file, 'utf8').trim();
    if (text === '') return null;
    const n = Number(text);
    return Number.isFinite(n) ? n : null;
  } catch {
    return null;
  }
}

const { files, hz } = workerData;
const sample = () => {
  // Epoch ms with sub-ms precision: the main thread converts it to its own performance.now().
  const t = performance.timeOrigin + performance.now();
  parentPort.postMessage({ t, values: files.map(readNumber) });
};
sample();
const timer = setInterval(sample, 1000 / hz);
parentPort.on('message', (m) => {
  if (m === 'stop') {
    clearInterval(timer);
    sample();
    parentPort.postMessage('stopped');
    parentPort.close();
  }
});
