// PyTorch as the pipeline's device inference (issue 15 item 2): a TorchScript module run by libtorch
// on the pipeline's own CUDA stream, reading the preprocessed input and writing the model output in
// the pipeline's device buffers in place (no host round trip, no copy into PyTorch's memory). Built
// only where libtorch and CUDA were found (JETBENCH_WITH_TORCH).
#pragma once

#include <memory>
#include <string>

#include "jetbench/pipeline.h"

namespace jetbench {

/** libtorch's version compiled against ("2.11.0"), empty when built without it. */
std::string torchVersion();

/** Loads a TorchScript file (traced on CUDA in the pipeline's precision) onto the current CUDA
 * device. `inputShape` is 1 x 3 x S x S; the module's first output must hold rows x cols values.
 * Throws std::runtime_error with libtorch's message when it cannot load or run. */
std::unique_ptr<DeviceInference> makeTorchScriptInference(const std::string& path, const PipelineOptions& options);

}  // namespace jetbench
