// The protocol's plain values, without vscode-jsonrpc (see protocol.ts, which re-exports them).

/** Bumped on any incompatible change; checked at `initialize`. 2: the daemon, persisted runs,
 * attach, queue state (see the section "Daemon, persisted runs, attach"). */
export const PROTOCOL_VERSION = 2;

/** Version of the run file layout (schemas/run.schema.json). */
export const RUN_SCHEMA_VERSION = 1;

export type BackendId = 'onnxruntime' | 'tensorrt' | 'tvm' | 'pytorch';
export const BACKEND_IDS: readonly BackendId[] = ['onnxruntime', 'tensorrt', 'tvm', 'pytorch'];

export type Precision = 'fp32' | 'fp16' | 'bf16' | 'int8';
export const PRECISIONS: readonly Precision[] = ['fp32', 'fp16', 'bf16', 'int8'];

export type PipelineMode = 'conventional' | 'zerocopy';
export const PIPELINE_MODES: readonly PipelineMode[] = ['conventional', 'zerocopy'];

/** Where frames, model inputs/outputs and detections live: pageable + copies, pinned (page-locked)
 * + copies, mapped host memory read by the GPU directly (zero-copy, a Jetson's shared DRAM),
 * managed (unified) memory. */
export type MemoryMode = 'pageable' | 'pinned' | 'mapped' | 'managed';
export const MEMORY_MODES: readonly MemoryMode[] = ['pageable', 'pinned', 'mapped', 'managed'];
