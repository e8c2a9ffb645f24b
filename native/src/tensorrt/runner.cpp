// TensorRT runner (see tensorrt.h). Written against the public API common to TensorRT 8.5 and 10.x:
// the differences (explicit-batch flag, deprecated INT8 calibration in 10.x) are marked where they
// occur. Every TensorRT object is owned by a unique_ptr (TensorRT >= 8 objects are deleted with
// delete); every failure is an exception carrying TensorRT's or CUDA's message.
#include <NvInfer.h>
#include <NvInferVersion.h>
#include <NvOnnxParser.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <mutex>

#include "jetbench/cuda_resources.h"
#include "jetbench/tensorrt.h"

// INT8 entropy calibration is deprecated in TensorRT 10 (explicit quantization is preferred) but
// still the documented way to calibrate an ONNX model without Q/DQ nodes.
#if defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#endif

namespace jetbench {

namespace {

using Severity = nvinfer1::ILogger::Severity;

/** Collects TensorRT's messages (warnings and errors) for the build log and error messages. */
class Logger : public nvinfer1::ILogger {
 public:
  void log(Severity severity, const char* msg) noexcept override {
    if (severity > Severity::kWARNING) return;
    std::lock_guard<std::mutex> lock(mutex_);
    text_ += (severity <= Severity::kERROR ? "error: " : "warning: ") + std::string(msg) + "\n";
    if (severity <= Severity::kERROR) lastError_ = msg;
  }
  std::string text() {
    std::lock_guard<std::mutex> lock(mutex_);
    return text_;
  }
  std::string lastError() {
    std::lock_guard<std::mutex> lock(mutex_);
    return lastError_;
  }

 private:
  std::mutex mutex_;
  std::string text_;
  std::string lastError_;
};

std::vector<char> readBinary(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return {};
  return std::vector<char>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

void writeBinary(const std::string& path, const void* data, std::size_t bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f.write(static_cast<const char*>(data), static_cast<std::streamsize>(bytes))) throw RuntimeError("cannot write " + path);
}

std::size_t volume(const nvinfer1::Dims& d) {
  std::size_t v = 1;
  for (int i = 0; i < d.nbDims; ++i) v *= static_cast<std::size_t>(d.d[i] < 0 ? 1 : d.d[i]);
  return v;
}

std::size_t dtypeBytes(nvinfer1::DataType t) {
  switch (t) {
    case nvinfer1::DataType::kFLOAT: return 4;
    case nvinfer1::DataType::kHALF: return 2;
    case nvinfer1::DataType::kINT8: return 1;
    case nvinfer1::DataType::kINT32: return 4;
    case nvinfer1::DataType::kBOOL: return 1;
    default: return 4;
  }
}

const char* dtypeName(nvinfer1::DataType t) {
  switch (t) {
    case nvinfer1::DataType::kFLOAT: return "float32";
    case nvinfer1::DataType::kHALF: return "float16";
    case nvinfer1::DataType::kINT8: return "int8";
    case nvinfer1::DataType::kINT32: return "int32";
    case nvinfer1::DataType::kBOOL: return "bool";
    default: return "other";
  }
}

/** Entropy calibration fed by preprocessed frames; the cache makes later builds skip it. */
class EntropyCalibrator : public nvinfer1::IInt8EntropyCalibrator2 {
 public:
  EntropyCalibrator(const std::vector<std::vector<float>>& inputs, std::string cachePath) : inputs_(inputs), cachePath_(std::move(cachePath)) {
    if (!inputs_.empty()) device_ = DeviceBuffer(inputs_.front().size() * sizeof(float));
    cache_ = readBinary(cachePath_);
  }
  int getBatchSize() const noexcept override { return 1; }
  bool getBatch(void* bindings[], const char* /*names*/[], int nbBindings) noexcept override {
    if (next_ >= inputs_.size() || nbBindings < 1) return false;
    if (cudaMemcpy(device_.get(), inputs_[next_].data(), device_.bytes(), cudaMemcpyHostToDevice) != cudaSuccess) return false;
    bindings[0] = device_.get();
    ++next_;
    used_ = true;
    return true;
  }
  const void* readCalibrationCache(std::size_t& length) noexcept override {
    length = cache_.size();
    return cache_.empty() ? nullptr : cache_.data();
  }
  void writeCalibrationCache(const void* cache, std::size_t length) noexcept override {
    if (cachePath_.empty()) return;
    try {
      writeBinary(cachePath_, cache, length);
    } catch (...) {
      // The engine is still valid; the next build calibrates again.
    }
  }
  bool calibrated() const { return used_; }

 private:
  const std::vector<std::vector<float>>& inputs_;
  std::string cachePath_;
  std::vector<char> cache_;
  DeviceBuffer device_;
  std::size_t next_ = 0;
  bool used_ = false;
};

template <typename T>
std::unique_ptr<T> owned(T* p, const char* what, Logger& logger) {
  if (!p) throw RuntimeError(std::string("TensorRT could not create the ") + what + ": " + logger.lastError());
  return std::unique_ptr<T>(p);
}

class LayerProfiler : public nvinfer1::IProfiler {
 public:
  void reportLayerTime(const char* layerName, float ms) noexcept override { times.push_back({layerName, ms}); }
  std::vector<LayerTime> times;
};

}  // namespace

std::string tensorrtHeaderVersion() {
  return std::to_string(NV_TENSORRT_MAJOR) + "." + std::to_string(NV_TENSORRT_MINOR) + "." + std::to_string(NV_TENSORRT_PATCH);
}

std::string tensorrtLibraryVersion() {
  // getInferLibVersion(): major * 1000 + minor * 100 + patch before 10, major * 10000 + ... since.
  const int v = getInferLibVersion();
  const int major = v >= 100000 ? v / 10000 : v / 1000;
  const int minor = v >= 100000 ? (v / 100) % 100 : (v / 100) % 10;
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(v % 100);
}

TensorRtBuildResult buildTensorRtEngine(const TensorRtBuildOptions& o) {
  int device = 0;
  JB_CUDA(cudaGetDevice(&device));
  cudaDeviceProp prop{};
  JB_CUDA(cudaGetDeviceProperties(&prop, device));
  checkPrecisionIsFast(o.precision, prop.major, prop.minor);
  if (o.precision == "int8" && o.calibrationInputs.empty() && readBinary(o.calibrationCachePath).empty()) {
    throw InvalidArgument("int8 needs calibration frames (or a calibration cache from an earlier build)");
  }
  Logger logger;
  const auto t0 = std::chrono::steady_clock::now();
  auto builder = owned(nvinfer1::createInferBuilder(logger), "builder", logger);
#if NV_TENSORRT_MAJOR >= 10
  const std::uint32_t flags = 0;  // networks are always explicit-batch
#else
  const std::uint32_t flags = 1U << static_cast<std::uint32_t>(nvinfer1::NetworkDefinitionCreationFlag::kEXPLICIT_BATCH);
#endif
  auto network = owned(builder->createNetworkV2(flags), "network", logger);
  auto parser = owned(nvonnxparser::createParser(*network, logger), "ONNX parser", logger);
  if (!parser->parseFromFile(o.onnxPath.c_str(), static_cast<int>(Severity::kWARNING))) {
    std::string errors;
    for (int i = 0; i < parser->getNbErrors(); ++i) errors += std::string(i ? "; " : "") + parser->getError(i)->desc();
    throw InvalidArgument("TensorRT cannot parse '" + o.onnxPath + "': " + (errors.empty() ? logger.lastError() : errors));
  }
  auto config = owned(builder->createBuilderConfig(), "builder config", logger);
  config->setMemoryPoolLimit(nvinfer1::MemoryPoolType::kWORKSPACE, o.workspaceBytes);
  config->setProfilingVerbosity(nvinfer1::ProfilingVerbosity::kDETAILED);
  if (o.precision == "fp16" || o.precision == "int8") config->setFlag(nvinfer1::BuilderFlag::kFP16);
  std::unique_ptr<EntropyCalibrator> calibrator;
  if (o.precision == "int8") {
    config->setFlag(nvinfer1::BuilderFlag::kINT8);
    calibrator = std::make_unique<EntropyCalibrator>(o.calibrationInputs, o.calibrationCachePath);
    config->setInt8Calibrator(calibrator.get());
  }
  std::unique_ptr<nvinfer1::ITimingCache> timingCache;
  if (!o.timingCachePath.empty()) {
    const auto blob = readBinary(o.timingCachePath);
    timingCache = owned(config->createTimingCache(blob.data(), blob.size()), "timing cache", logger);
    config->setTimingCache(*timingCache, false);
  }
  auto plan = owned(builder->buildSerializedNetwork(*network, *config), "engine (build failed)", logger);
  writeBinary(o.enginePath, plan->data(), plan->size());
  if (timingCache) {
    auto serialized = owned(config->getTimingCache()->serialize(), "serialized timing cache", logger);
    writeBinary(o.timingCachePath, serialized->data(), serialized->size());
  }
  TensorRtBuildResult r;
  r.engineBytes = plan->size();
  r.buildMs = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  r.calibrated = calibrator && calibrator->calibrated();
  r.log = logger.text();
  return r;
}

struct TensorRtRunner::Impl {
  Logger logger;
  std::unique_ptr<nvinfer1::IRuntime> runtime;
  std::unique_ptr<nvinfer1::ICudaEngine> engine;
  std::unique_ptr<nvinfer1::IExecutionContext> context;
  std::vector<TensorRtTensor> tensors;
  std::vector<DeviceBuffer> buffers;  // one per IO tensor, for inferTimed()
  std::size_t engineBytes = 0;
  bool useGraph = false;
  CudaStream stream;
  CudaEvent start, stop;
  cudaGraphExec_t graph = nullptr;
  const void* graphInput = nullptr;
  void* graphOutput = nullptr;

  void bind(const void* input, void* output) {
    for (std::size_t i = 0; i < tensors.size(); ++i) {
      void* p = tensors[i].input ? const_cast<void*>(input) : output;
      if (!p) p = buffers[i].get();
      if (!context->setTensorAddress(tensors[i].name.c_str(), p)) throw RuntimeError("TensorRT setTensorAddress failed: " + logger.lastError());
    }
  }

  void launch(const void* input, void* output, cudaStream_t s) {
    if (!useGraph) {
      bind(input, output);
      if (!context->enqueueV3(s)) throw RuntimeError("TensorRT enqueueV3 failed: " + logger.lastError());
      return;
    }
    // A graph is captured once per (input, output) pair: the addresses are baked into it.
    if (!graph || graphInput != input || graphOutput != output) {
      if (graph) cudaGraphExecDestroy(graph);
      graph = nullptr;
      bind(input, output);
      if (!context->enqueueV3(s)) throw RuntimeError("TensorRT enqueueV3 failed: " + logger.lastError());  // warm-up outside capture
      cudaGraph_t g = nullptr;
      JB_CUDA(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal));
      const bool ok = context->enqueueV3(s);
      JB_CUDA(cudaStreamEndCapture(s, &g));
      if (!ok) {
        cudaGraphDestroy(g);
        throw RuntimeError("TensorRT enqueueV3 failed during CUDA graph capture: " + logger.lastError());
      }
      const cudaError_t err = cudaGraphInstantiateWithFlags(&graph, g, 0);
      cudaGraphDestroy(g);
      if (err != cudaSuccess) throwCuda(err, "cudaGraphInstantiateWithFlags", __FILE__, __LINE__);
      graphInput = input;
      graphOutput = output;
    }
    JB_CUDA(cudaGraphLaunch(graph, s));
  }
};

TensorRtRunner::TensorRtRunner(const std::string& enginePath, bool cudaGraph) : impl_(std::make_unique<Impl>()) {
  const auto blob = readBinary(enginePath);
  if (blob.empty()) throw InvalidArgument("engine file '" + enginePath + "' is missing or empty: build it with jetbench build --backend tensorrt");
  impl_->engineBytes = blob.size();
  impl_->useGraph = cudaGraph;
  impl_->runtime = owned(nvinfer1::createInferRuntime(impl_->logger), "runtime", impl_->logger);
  impl_->engine.reset(impl_->runtime->deserializeCudaEngine(blob.data(), blob.size()));
  if (!impl_->engine) {
    throw InvalidArgument("engine file '" + enginePath + "' is corrupt or was built by another TensorRT version or for another GPU (" +
                          impl_->logger.lastError() + "): delete it and build again");
  }
  impl_->context = owned(impl_->engine->createExecutionContext(), "execution context", impl_->logger);
  for (int i = 0; i < impl_->engine->getNbIOTensors(); ++i) {
    const char* name = impl_->engine->getIOTensorName(i);
    TensorRtTensor t;
    t.name = name;
    t.input = impl_->engine->getTensorIOMode(name) == nvinfer1::TensorIOMode::kINPUT;
    const nvinfer1::Dims d = impl_->engine->getTensorShape(name);
    for (int k = 0; k < d.nbDims; ++k) t.shape.push_back(d.d[k]);
    const nvinfer1::DataType type = impl_->engine->getTensorDataType(name);
    t.dtype = dtypeName(type);
    impl_->buffers.emplace_back(volume(d) * dtypeBytes(type));
    impl_->tensors.push_back(t);
  }
}

TensorRtRunner::~TensorRtRunner() {
  if (impl_ && impl_->graph) cudaGraphExecDestroy(impl_->graph);
}

const std::vector<TensorRtTensor>& TensorRtRunner::tensors() const { return impl_->tensors; }
std::size_t TensorRtRunner::engineBytes() const { return impl_->engineBytes; }

double TensorRtRunner::inferTimed() {
  impl_->start.record(impl_->stream.get());
  impl_->launch(nullptr, nullptr, impl_->stream.get());
  impl_->stop.record(impl_->stream.get());
  impl_->stream.sync();
  return impl_->stop.since(impl_->start);
}

std::vector<LayerTime> TensorRtRunner::profileLayers() {
  LayerProfiler profiler;
  impl_->context->setProfiler(&profiler);
  impl_->context->setEnqueueEmitsProfile(false);
  impl_->bind(nullptr, nullptr);
  const bool ok = impl_->context->enqueueV3(impl_->stream.get());
  impl_->stream.sync();
  if (ok) impl_->context->reportToProfiler();
  impl_->context->setProfiler(nullptr);
  if (!ok) throw RuntimeError("TensorRT enqueueV3 failed while profiling: " + impl_->logger.lastError());
  return profiler.times;
}

void TensorRtRunner::enqueue(const void* input, void* output, void* stream) {
  impl_->launch(input, output, static_cast<cudaStream_t>(stream));
}

std::string TensorRtRunner::describe() const {
  return "TensorRT " + tensorrtLibraryVersion() + " (enqueueV3" + std::string(impl_->useGraph ? ", CUDA graph" : "") + ")";
}

}  // namespace jetbench
