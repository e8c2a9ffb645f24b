// A backend this agent build cannot run yet: it reports what it found on the device and why
// jetbench cannot use it, so `listBackends` and `run` say so instead of failing obscurely.
import { BackendUnavailableError } from '../errors';
import { deviceInfo } from '../deviceInfo';
import type { BackendId, BackendStatus } from '../protocol';
import type { Backend, PreparedSession } from './backend';

const HOW_TO_GET: Record<UnsupportedId, string> = {
  tensorrt: 'TensorRT comes with JetPack on a Jetson (or NVIDIA\'s TensorRT packages on x86)',
};
type UnsupportedId = Exclude<BackendId, 'onnxruntime' | 'tvm'>;

export class UnsupportedBackend implements Backend {
  constructor(readonly id: UnsupportedId) {}

  async status(): Promise<BackendStatus> {
    const versions = (await deviceInfo()).versions;
    const found = versions[this.id];
    const reason = found
      ? `${this.id} ${found} is installed, but this jetbench agent (${versions.agent}) has no ${this.id} runner yet`
      : `${this.id} was not found on this device (${HOW_TO_GET[this.id]}); this jetbench agent also has no ${this.id} runner yet`;
    return { id: this.id, available: false, reason, version: found, precisions: [] };
  }

  async prepare(): Promise<PreparedSession> {
    throw new BackendUnavailableError((await this.status()).reason ?? `${this.id} is unavailable`);
  }
}
