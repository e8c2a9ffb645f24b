// `jetbench build --backend tensorrt`: the engine built (or found in the cache) without measuring.
import { BackendUnavailableError } from '../errors';
import type { BuildResult, RunSpec } from '../protocol';
import { resolveAndInspect, type RunSinks } from '../runner';
import { buildTensorRtEngine, TensorRtBackend } from './tensorrt';

export async function buildTensorRt(spec: RunSpec, sinks: Pick<RunSinks, 'progress' | 'isCancelled'>): Promise<BuildResult> {
  const backend = new TensorRtBackend();
  const status = await backend.status();
  if (!status.available) throw new BackendUnavailableError(status.reason ?? 'TensorRT is unavailable');
  // TensorRT converts precision itself: it always starts from the fp32 model.
  const model = await resolveAndInspect({ ...spec, precision: 'fp32' }, sinks);
  const built = await buildTensorRtEngine(spec, model, sinks.progress, () => backend.nativeInfo());
  await built.worker.dispose();
  return { artifact: built.artifact, model, cached: built.cached, tuningLog: null };
}
