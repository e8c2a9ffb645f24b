// Pipeline: the stages of one frame in conventional or zerocopy form (see pipeline.h).
#include "jetbench/pipeline.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <functional>

#include "jetbench/letterbox.h"
#include "jetbench/memory.h"

#ifdef JETBENCH_WITH_CUDA
#include "jetbench/kernels.h"
#endif

namespace jetbench {

const char* stagePlaceName(StagePlace p) {
  switch (p) {
    case StagePlace::Cpu: return "cpu";
    case StagePlace::Gpu: return "gpu";
    case StagePlace::HostToDevice: return "host-to-device";
    case StagePlace::DeviceToHost: return "device-to-host";
  }
  return "unknown";
}

CudaAvailability cudaAvailability() {
  CudaAvailability a;
#ifdef JETBENCH_WITH_CUDA
  a.compiled = true;
  cudaRuntimeGetVersion(&a.runtimeVersion);
  int n = 0;
  const cudaError_t err = cudaGetDeviceCount(&n);
  if (err != cudaSuccess) {
    cudaGetLastError();  // clear the sticky-free error so later calls report their own
    a.reason = std::string("no usable CUDA device: ") + cudaGetErrorString(err);
    return a;
  }
  a.devices = n;
  if (n == 0) {
    a.reason = "no CUDA device found";
    return a;
  }
  cudaDeviceProp prop{};
  if (cudaGetDeviceProperties(&prop, 0) == cudaSuccess) a.deviceName = prop.name;
#else
  a.reason = "the native addon was built without CUDA (nvcc was not found when it was built)";
#endif
  return a;
}

void validatePipelineOptions(const PipelineOptions& o) {
  if (o.inputSize < 32 || o.inputSize > 8192) {
    throw InvalidArgument("model input size " + std::to_string(o.inputSize) + " is not a square image input between 32 and 8192");
  }
  PredictionsView shape;
  shape.data = &o;
  shape.rows = o.outputRows;
  shape.cols = o.outputCols;
  validateNmsOptions(o.nms);
  validatePredictions(shape, o.nms);
  validatePreprocess(o.preprocess);
  if (o.nms.head == HeadLayout::NanoDet && o.nms.inputSize != o.inputSize) {
    throw InvalidArgument("NanoDet decoding is set for input " + std::to_string(o.nms.inputSize) + " but the model's input is " + std::to_string(o.inputSize));
  }
  const bool needsCuda = o.mode == PipelineMode::ZeroCopy || o.memory != MemoryMode::Pageable || o.inference == InferencePlace::Device;
  if (needsCuda) {
    const CudaAvailability cuda = cudaAvailability();
    if (cuda.devices == 0) {
      std::string what = o.mode == PipelineMode::ZeroCopy ? "the zerocopy pipeline"
                         : o.inference == InferencePlace::Device ? "an inference on the GPU"
                                                                  : std::string("memory mode '") + memoryModeName(o.memory) + "'";
      throw InvalidArgument(what + " needs a CUDA GPU, and " + cuda.reason +
                            ": run --mode conventional --memory pageable here, or run on a device with a GPU");
    }
  }
}

namespace {

using Clock = std::chrono::steady_clock;

/** Stage records of one call; GPU stages get their times once the stream has been synchronised. */
class Timeline {
 public:
#ifdef JETBENCH_WITH_CUDA
  explicit Timeline(std::vector<CudaEvent>& events, cudaStream_t stream) : events_(events), stream_(stream) {}
#else
  Timeline() = default;
#endif

  void cpu(const char* name, const std::function<void()>& fn) {
    const auto t0 = Clock::now();
    fn();
    const auto t1 = Clock::now();
    records_.push_back({name, StagePlace::Cpu, false, std::chrono::duration<double, std::milli>(t1 - t0).count()});
  }

#ifdef JETBENCH_WITH_CUDA
  void gpu(const char* name, StagePlace where, const std::function<void()>& fn) {
    if (next_ + 2 > events_.size()) throw RuntimeError("pipeline: more GPU stages than timing events");
    events_[next_].record(stream_);
    fn();
    events_[next_ + 1].record(stream_);
    pending_.push_back({records_.size(), next_});
    next_ += 2;
    records_.push_back({name, where, true, 0.0});
  }

  /** Call after the stream was synchronised. */
  std::vector<StageRecord> finish() {
    for (const auto& p : pending_) records_[p.first].ms = events_[p.second + 1].since(events_[p.second]);
    return std::move(records_);
  }
#else
  std::vector<StageRecord> finish() { return std::move(records_); }
#endif

 private:
  std::vector<StageRecord> records_;
#ifdef JETBENCH_WITH_CUDA
  std::vector<CudaEvent>& events_;
  cudaStream_t stream_;
  std::size_t next_ = 0;
  std::vector<std::pair<std::size_t, std::size_t>> pending_;
#endif
};

/** Runs a stage on the timeline, or (dry run) only lists it for plan(). */
struct StageSink {
  Timeline& t;
  bool dryRun;
  std::vector<StageRecord>* plan;
  void cpu(const char* name, const std::function<void()>& fn) {
    if (dryRun) plan->push_back({name, StagePlace::Cpu, false, 0});
    else t.cpu(name, fn);
  }
  void gpu(const char* name, StagePlace where, const std::function<void()>& fn) {
    if (dryRun) {
      plan->push_back({name, where, true, 0});
      return;
    }
#ifdef JETBENCH_WITH_CUDA
    t.gpu(name, where, fn);
#else
    (void)fn;
#endif
  }
};

/** Detections buffer layout: the count at offset 0, the entries from offset 16. */
constexpr std::size_t kDetectionsOffset = 16;

}  // namespace

struct Pipeline::Impl {
  PipelineOptions o;
  bool usesDevice;
  std::vector<MirroredBuffer> frames;
  std::vector<FrameView> frameViews;  // host views; data set per mode when used
  MirroredBuffer input;
  MirroredBuffer output;
  MirroredBuffer detections;
#ifdef JETBENCH_WITH_CUDA
  std::unique_ptr<CudaStream> stream;
  std::vector<CudaEvent> events;
  std::unique_ptr<GpuNms> nms;
  std::unique_ptr<DeviceInference> inference;
#endif

  static bool needsDevice(const PipelineOptions& o) {
    return o.mode == PipelineMode::ZeroCopy || o.memory != MemoryMode::Pageable || o.inference == InferencePlace::Device;
  }

  explicit Impl(const PipelineOptions& opts)
      : o(opts),
        usesDevice(needsDevice(opts)),
        input(opts.memory, 3 * std::size_t(opts.inputSize) * opts.inputSize * elementBytes(opts.inputType), needsDevice(opts)),
        output(opts.memory, std::size_t(opts.outputRows) * opts.outputCols * elementBytes(opts.outputType), needsDevice(opts)),
        detections(opts.memory, kDetectionsOffset + sizeof(Detection) * opts.nms.maxDetections, needsDevice(opts)) {
#ifdef JETBENCH_WITH_CUDA
    if (usesDevice) {
      stream = std::make_unique<CudaStream>();
      events.resize(32);
      if (o.mode == PipelineMode::ZeroCopy) nms = std::make_unique<GpuNms>(o.outputRows, o.outputCols, o.nms);
    }
#endif
  }

  /** Reads the detections the GPU wrote (after the stream is synchronised). */
  void readDetections(std::vector<Detection>& out) const {
    int count = 0;
    std::memcpy(&count, detections.host(), sizeof(int));
    count = std::max(0, std::min(count, o.nms.maxDetections));
    const auto* first = reinterpret_cast<const Detection*>(static_cast<const char*>(detections.host()) + kDetectionsOffset);
    out.assign(first, first + count);
  }

  PredictionsView hostPredictions() const {
    PredictionsView p;
    p.data = output.host();
    p.type = o.outputType;
    p.rows = o.outputRows;
    p.cols = o.outputCols;
    return p;
  }

  /** The stages before the inference. `dryRun` only lists them (for plan()). */
  void before(Timeline& t, int slot, bool dryRun, std::vector<StageRecord>* plan) {
    StageSink sink{t, dryRun, plan};
    const bool deviceInference = o.inference == InferencePlace::Device;
    if (o.mode == PipelineMode::Conventional) {
      sink.cpu("preprocess", [&] { preprocessCpu(frameViews[slot], o.inputSize, o.preprocess, o.inputType, input.host()); });
      if (deviceInference && input.needsCopy()) sink.gpu("upload_input", StagePlace::HostToDevice, [&] { input.toDevice(streamPtr(), input.bytes()); });
      return;
    }
#ifdef JETBENCH_WITH_CUDA
    const bool frameCopy = dryRun ? MirroredBuffer::modeNeedsCopy(o.memory) : frames[slot].needsCopy();
    if (frameCopy) {
      sink.gpu("upload_frame", StagePlace::HostToDevice, [&] {
        const FrameView& f = frameViews[slot];
        frames[slot].toDevice(streamPtr(), std::size_t(f.strideBytes) * f.height);
      });
    }
    sink.gpu("preprocess", StagePlace::Gpu, [&] {
      FrameView d = frameViews[slot];
      d.data = static_cast<const std::uint8_t*>(frames[slot].device());
      preprocessGpu(d, o.inputSize, o.preprocess, o.inputType, input.device(), stream->get());
    });
    if (!deviceInference && MirroredBuffer::modeNeedsCopy(o.memory)) {
      sink.gpu("download_input", StagePlace::DeviceToHost, [&] { input.toHost(streamPtr(), input.bytes()); });
    }
#endif
  }

  void after(Timeline& t, bool dryRun, std::vector<StageRecord>* plan, std::vector<Detection>* out) {
    StageSink sink{t, dryRun, plan};
    const bool deviceInference = o.inference == InferencePlace::Device;
    if (o.mode == PipelineMode::Conventional) {
      if (deviceInference && MirroredBuffer::modeNeedsCopy(o.memory)) {
        sink.gpu("download_output", StagePlace::DeviceToHost, [&] { output.toHost(streamPtr(), output.bytes()); });
      }
      if (!dryRun) syncStream();
      sink.cpu("postprocess", [&] { *out = decodeNmsCpu(hostPredictions(), o.nms); });
      return;
    }
#ifdef JETBENCH_WITH_CUDA
    if (!deviceInference && MirroredBuffer::modeNeedsCopy(o.memory)) {
      sink.gpu("upload_output", StagePlace::HostToDevice, [&] { output.toDevice(streamPtr(), output.bytes()); });
    }
    sink.gpu("postprocess", StagePlace::Gpu, [&] {
      auto* base = static_cast<char*>(detections.device());
      nms->enqueue(output.device(), o.outputType, reinterpret_cast<Detection*>(base + kDetectionsOffset), reinterpret_cast<int*>(base), stream->get());
    });
    if (MirroredBuffer::modeNeedsCopy(o.memory)) {
      sink.gpu("download_detections", StagePlace::DeviceToHost, [&] { detections.toHost(streamPtr(), detections.bytes()); });
    }
    if (!dryRun) {
      syncStream();
      readDetections(*out);
    }
#endif
  }

  void* streamPtr() const {
#ifdef JETBENCH_WITH_CUDA
    return stream ? static_cast<void*>(stream->get()) : nullptr;
#else
    return nullptr;
#endif
  }

  void syncStream() const {
#ifdef JETBENCH_WITH_CUDA
    if (stream) stream->sync();
#endif
  }

  Timeline timeline() {
#ifdef JETBENCH_WITH_CUDA
    return Timeline(events, stream ? stream->get() : nullptr);
#else
    return Timeline();
#endif
  }
};

#ifdef JETBENCH_WITH_CUDA
namespace {
class ReplayInference : public DeviceInference {
 public:
  ReplayInference(const void* host, std::size_t bytes) : stored_(bytes) {
    JB_CUDA(cudaMemcpy(stored_.get(), host, bytes, cudaMemcpyHostToDevice));
  }
  void enqueue(const void*, void* out, void* stream) override {
    JB_CUDA(cudaMemcpyAsync(out, stored_.get(), stored_.bytes(), cudaMemcpyDeviceToDevice, static_cast<cudaStream_t>(stream)));
  }
  std::string describe() const override { return "replay stand-in (copies a stored model output on the device; not a model)"; }

 private:
  DeviceBuffer stored_;
};
}  // namespace

std::unique_ptr<DeviceInference> makeReplayInference(const void* hostOutput, std::size_t bytes) {
  return std::make_unique<ReplayInference>(hostOutput, bytes);
}
#else
std::unique_ptr<DeviceInference> makeReplayInference(const void*, std::size_t) {
  throw InvalidArgument("the replay inference runs on the GPU, and this build has no CUDA");
}
#endif

Pipeline::Pipeline(const PipelineOptions& options) {
  validatePipelineOptions(options);
  impl_ = std::make_unique<Impl>(options);
}

Pipeline::~Pipeline() = default;

const PipelineOptions& Pipeline::options() const { return impl_->o; }

int Pipeline::addFrame(const FrameView& frame, std::size_t availableBytes) {
  validateFrame(frame, availableBytes);
  const std::size_t bytes = std::size_t(frame.strideBytes) * (frame.height - 1) + 3 * std::size_t(frame.width);
  // Conventional frames are read by the CPU only.
  const bool zero = impl_->o.mode == PipelineMode::ZeroCopy;
  MirroredBuffer buf(zero ? impl_->o.memory : MemoryMode::Pageable, std::size_t(frame.strideBytes) * frame.height, zero);
  std::memcpy(buf.host(), frame.data, bytes);
  FrameView view = frame;
  view.data = static_cast<const std::uint8_t*>(buf.host());
  impl_->frames.push_back(std::move(buf));
  impl_->frameViews.push_back(view);
  return static_cast<int>(impl_->frames.size()) - 1;
}

int Pipeline::frameCount() const { return static_cast<int>(impl_->frames.size()); }
void* Pipeline::inputHost() { return impl_->input.host(); }
void* Pipeline::outputHost() { return impl_->output.host(); }
std::size_t Pipeline::inputBytes() const { return impl_->input.bytes(); }
std::size_t Pipeline::outputBytes() const { return impl_->output.bytes(); }

void Pipeline::setDeviceInference(std::unique_ptr<DeviceInference> inference) {
  if (impl_->o.inference != InferencePlace::Device) throw InvalidArgument("this pipeline runs its inference on the host");
#ifdef JETBENCH_WITH_CUDA
  if (inference && impl_->output.bytes() == 0) throw InvalidArgument("pipeline has no output buffer");
  impl_->inference = std::move(inference);
#else
  (void)inference;
#endif
}

static void checkSlot(int slot, int count) {
  if (slot < 0 || slot >= count) {
    throw InvalidArgument("frame slot " + std::to_string(slot) + " does not exist (the pipeline has " + std::to_string(count) + " frames)");
  }
}

std::vector<StageRecord> Pipeline::runFrame(int slot, std::vector<Detection>& detections) {
  checkSlot(slot, frameCount());
#ifdef JETBENCH_WITH_CUDA
  if (impl_->o.inference != InferencePlace::Device || !impl_->inference) {
    throw InvalidArgument("runFrame needs an inference on the device; with a host inference call beforeInference / afterInference");
  }
  Timeline t = impl_->timeline();
  impl_->before(t, slot, false, nullptr);
  t.gpu("inference", StagePlace::Gpu, [&] { impl_->inference->enqueue(impl_->input.device(), impl_->output.device(), impl_->stream->get()); });
  impl_->after(t, false, nullptr, &detections);
  impl_->syncStream();
  return t.finish();
#else
  (void)detections;
  throw InvalidArgument("runFrame needs an inference on the device, and this build has no CUDA");
#endif
}

std::vector<StageRecord> Pipeline::beforeInference(int slot) {
  checkSlot(slot, frameCount());
  if (impl_->o.inference != InferencePlace::Host) throw InvalidArgument("this pipeline's inference runs on the device: use runFrame");
  Timeline t = impl_->timeline();
  impl_->before(t, slot, false, nullptr);
  impl_->syncStream();
  return t.finish();
}

std::vector<StageRecord> Pipeline::afterInference(std::vector<Detection>& detections) {
  Timeline t = impl_->timeline();
  impl_->after(t, false, nullptr, &detections);
  impl_->syncStream();
  return t.finish();
}

std::vector<StageRecord> Pipeline::plan() const {
  std::vector<StageRecord> plan;
  Timeline t = impl_->timeline();
  impl_->before(t, 0, true, &plan);
  plan.push_back({"inference", impl_->o.inference == InferencePlace::Device ? StagePlace::Gpu : StagePlace::Cpu,
                  impl_->o.inference == InferencePlace::Device, 0});
  impl_->after(t, true, &plan, nullptr);
  return plan;
}

}  // namespace jetbench
