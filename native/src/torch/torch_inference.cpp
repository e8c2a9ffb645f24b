// libtorch on the pipeline's stream (see torch_inference.h). The input and output are the
// pipeline's device buffers wrapped as tensors (torch::from_blob, no copy); the module runs under a
// stream guard of the pipeline's stream, so its kernels queue behind the GPU preprocess and ahead of
// the GPU decode + NMS with no synchronisation in between. The module's own output tensor is
// copied into the pipeline's output buffer on the same stream (device to device): TorchScript
// allocates its outputs itself.
#include "jetbench/torch_inference.h"

#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime_api.h>
#include <torch/script.h>
#include <torch/version.h>

#include <stdexcept>

namespace jetbench {
namespace {

c10::ScalarType scalarType(TensorType t) {
  return t == TensorType::Float16 ? at::kHalf : at::kFloat;
}

/** The first tensor of a module's output (a tensor, or a tuple/list whose first element is one). */
at::Tensor firstTensor(const c10::IValue& v) {
  if (v.isTensor()) return v.toTensor();
  if (v.isTuple()) {
    for (const auto& e : v.toTupleRef().elements()) {
      if (e.isTensor()) return e.toTensor();
    }
  }
  if (v.isList()) {
    for (const auto& e : v.toListRef()) {
      if (e.isTensor()) return e.toTensor();
    }
  }
  throw std::runtime_error("the TorchScript module returned no tensor");
}

class TorchScriptInference final : public DeviceInference {
 public:
  TorchScriptInference(const std::string& path, const PipelineOptions& o) : options_(o) {
    int device = 0;
    if (cudaGetDevice(&device) != cudaSuccess) throw std::runtime_error("no current CUDA device for libtorch");
    device_ = at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(device));
    try {
      module_ = torch::jit::load(path, device_);
    } catch (const c10::Error& e) {
      throw std::runtime_error("libtorch cannot load " + path + ": " + e.what_without_backtrace());
    }
    module_.eval();
  }

  void enqueue(const void* deviceInput, void* deviceOutput, void* cudaStream) override {
    try {
      c10::cuda::CUDAStreamGuard guard(c10::cuda::getStreamFromExternal(static_cast<cudaStream_t>(cudaStream), device_.index()));
      c10::InferenceMode inference;
      const auto inOpts = at::TensorOptions().dtype(scalarType(options_.inputType)).device(device_);
      const auto outOpts = at::TensorOptions().dtype(scalarType(options_.outputType)).device(device_);
      at::Tensor input = torch::from_blob(const_cast<void*>(deviceInput), {1, 3, options_.inputSize, options_.inputSize}, inOpts);
      at::Tensor result = firstTensor(module_.forward({input}));
      const int64_t expected = static_cast<int64_t>(options_.outputRows) * options_.outputCols;
      if (result.numel() != expected) {
        throw std::runtime_error("the TorchScript module's first output has " + std::to_string(result.numel()) + " values; the pipeline's output buffer holds " +
                                 std::to_string(options_.outputRows) + " x " + std::to_string(options_.outputCols));
      }
      at::Tensor output = torch::from_blob(deviceOutput, {1, options_.outputRows, options_.outputCols}, outOpts);
      output.copy_(result.reshape({1, options_.outputRows, options_.outputCols}), /*non_blocking=*/true);
    } catch (const c10::Error& e) {
      throw std::runtime_error(std::string("libtorch: ") + e.what_without_backtrace());
    }
  }

  std::string describe() const override {
    return std::string("PyTorch ") + TORCH_VERSION + " (libtorch, TorchScript) on " + device_.str() + ", in the pipeline's device buffers on its stream";
  }

 private:
  PipelineOptions options_;
  at::Device device_{at::kCUDA, 0};
  torch::jit::script::Module module_;
};

}  // namespace

std::string torchVersion() {
  return TORCH_VERSION;
}

std::unique_ptr<DeviceInference> makeTorchScriptInference(const std::string& path, const PipelineOptions& options) {
  return std::make_unique<TorchScriptInference>(path, options);
}

}  // namespace jetbench
