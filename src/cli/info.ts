// `jetbench info`: a device and its backends in a few readable lines.
import type { BackendStatus, DeviceInfo } from '../../device-agent/src/protocol';

const GiB = 1024 ** 3;

export function formatDeviceInfo(d: DeviceInfo, backends: BackendStatus[]): string {
  const lines = [
    `Device:    ${d.hostname} (${d.distro ?? d.platform} ${d.osRelease}, ${d.arch})`,
    `CPU:       ${d.cpuModel} x ${d.cpuCount}${d.cpuGovernor ? `, governor ${d.cpuGovernor}` : ''}`,
    `Memory:    ${(d.memoryBytes / GiB).toFixed(1)} GiB`,
  ];
  if (d.jetson) {
    const j = d.jetson;
    lines.push(`Jetson:    ${j.model ?? 'unknown model'}, L4T ${j.l4t ?? '?'}${j.jetpack ? ` (JetPack ${j.jetpack})` : ''}${j.powerMode ? `, power mode ${j.powerMode}` : ''}`);
  }
  if (d.gpus.length === 0) lines.push('GPU:       none found');
  for (const g of d.gpus) {
    const mem = g.memoryBytes ? `, ${(g.memoryBytes / GiB).toFixed(0)} GiB` : '';
    lines.push(`GPU:       ${g.name}${mem}${g.computeCapability ? `, sm ${g.computeCapability}` : ''}${g.driverVersion ? `, driver ${g.driverVersion}` : ''}`);
  }
  const v = d.versions;
  const ver = (x: string | null) => x ?? 'not found';
  lines.push(`Versions:  agent ${v.agent}, node ${v.node}, onnxruntime ${ver(v.onnxruntime)}, CUDA ${ver(v.cuda)}, TensorRT ${ver(v.tensorrt)}, TVM ${ver(v.tvm)}`);
  lines.push('Backends:');
  for (const b of backends) {
    lines.push(b.available ? `  ${b.id.padEnd(12)} available (${b.version ?? '?'}; ${b.precisions.join(', ')})` : `  ${b.id.padEnd(12)} unavailable: ${b.reason}`);
  }
  return lines.join('\n');
}
