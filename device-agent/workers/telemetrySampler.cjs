// The telemetry sampler's thread (issue 14), plain CommonJS so it needs no bundling: reads the
// given sysfs files synchronously at the given rate and posts their values with the time. It runs
// in a worker thread because ONNX Runtime's session.run holds the agent's main thread for the whole
// inference: timers there fire only between inferences (measured: 19 Hz when 100 Hz was asked,
// with a 52 ms model). Files and their meaning come from device-agent/src/telemetry/sensors.ts.
'use strict';
const { closeSync, openSync, readSync } = require('node:fs');
const { parentPort, workerData } = require('node:worker_threads');

// Each file opened once and read again from offset 0 at every sample (pread: sysfs and procfs
// produce the attribute anew), not opened and closed each time: 13 us instead of 59 us for an Orin
// Nano's 23 files, measured on this project's VM. A file that cannot be opened is tried again
// at the next sample. They are closed when the watch stops the thread ('stop').
const buffer = Buffer.alloc(4096);
const fds = new Map();
function readNumber(file) {
  try {
    let fd = fds.get(file);
    if (fd === undefined) {
      fd = openSync(file, 'r');
      fds.set(file, fd);
    }
    const text = buffer.toString('latin1', 0, readSync(fd, buffer, 0, buffer.length, 0)).trim();
    if (text === '') return null;
    const n = Number(text);
    return Number.isFinite(n) ? n : null;
  } catch {
    return null;
  }
}

const { files, hz } = workerData;
// Readings go to the main thread in batches of a tenth of a second (every reading at 10 Hz and
// below), not one message each: every message wakes the agent's main thread, and with ONNX Runtime
// using every core each wake-up takes a core from the inference (bench:telemetry, --threads 2 on 2
// cores).
const perBatch = Math.max(1, Math.round(hz / 10));
let pending = [];
const flush = () => {
  if (pending.length > 0) parentPort.postMessage(pending);
  pending = [];
};
const sample = () => {
  // Epoch ms with sub-ms precision: the main thread converts it to its own performance.now().
  const t = performance.timeOrigin + performance.now();
  pending.push({ t, values: files.map(readNumber) });
  if (pending.length >= perBatch) flush();
};
// The first reading at once: the run's idle baseline waits for it.
sample();
flush();
const timer = setInterval(sample, 1000 / hz);
parentPort.on('message', (m) => {
  if (m === 'stop') {
    clearInterval(timer);
    sample();
    flush();
    // Descriptors belong to the process, not to this thread: closed here, or every run would
    // leave its files open in the agent.
    for (const fd of fds.values()) closeSync(fd);
    fds.clear();
    parentPort.postMessage('stopped');
    parentPort.close();
  }
});
