// The pipeline of one frame, timed stage by stage: frame -> preprocess -> inference ->
// postprocess, `conventional` (CPU preprocess, copies around the inference, CPU NMS) or
// `zerocopy` (GPU preprocess, inference, GPU NMS; only detections come back). Copies are stages of
// their own wherever consecutive stages run in different memories. GPU stages are timed with CUDA
// events on the pipeline's stream, CPU stages with the host's steady clock.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "jetbench/common.h"
#include "jetbench/detect.h"
#include "jetbench/letterbox.h"

namespace jetbench {

enum class PipelineMode { Conventional, ZeroCopy };
/** Where frames, model inputs/outputs and detections live (see memory.h). */
enum class MemoryMode { Pageable, Pinned, Mapped, Managed };
/** Where the inference stage reads its input and writes its output. */
enum class InferencePlace { Host, Device };
enum class StagePlace { Cpu, Gpu, HostToDevice, DeviceToHost };

const char* memoryModeName(MemoryMode m);
const char* stagePlaceName(StagePlace p);

struct StageRecord {
  std::string name;
  StagePlace where;
  /** True: CUDA events on the stream; false: host steady clock. */
  bool cudaEvents;
  double ms;
};

struct PipelineOptions {
  PipelineMode mode = PipelineMode::Conventional;
  MemoryMode memory = MemoryMode::Pageable;
  InferencePlace inference = InferencePlace::Host;
  int inputSize = 640;
  TensorType inputType = TensorType::Float32;
  int outputRows = 25200;
  int outputCols = 85;
  TensorType outputType = TensorType::Float32;
  /** The model's preprocess (YOLOv5's letterbox, or NanoDet's stretch and normalisation). */
  PreprocessSpec preprocess;
  /** The decode's head layout and thresholds (NanoDet: nms.inputSize = inputSize). */
  NmsOptions nms;
};

/** An inference stage that runs on the device, on the pipeline's stream (TensorRT, or the
 * benchmark's replay stand-in). */
class DeviceInference {
 public:
  virtual ~DeviceInference() = default;
  virtual void enqueue(const void* deviceInput, void* deviceOutput, void* cudaStream) = 0;
  virtual std::string describe() const = 0;
};

/** A stand-in inference for benchmarks and tests, clearly not a model: it copies a stored model
 * output (device to device) into the output buffer, so the stages around the inference can be
 * measured with device-resident buffers where no GPU inference runtime exists. */
std::unique_ptr<DeviceInference> makeReplayInference(const void* hostOutput, std::size_t bytes);

/** Whether this build has CUDA and a device is present; the reason when not. */
struct CudaAvailability {
  bool compiled = false;
  int devices = 0;
  std::string deviceName;
  std::string reason;
  int runtimeVersion = 0;
};
CudaAvailability cudaAvailability();

class Pipeline {
 public:
  explicit Pipeline(const PipelineOptions& options);
  ~Pipeline();
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  /** Copies a frame into a frame slot in the pipeline's memory mode (outside any timing, as a
   * camera would deliver it there); returns the slot index. */
  int addFrame(const FrameView& frame, std::size_t availableBytes);
  int frameCount() const;

  /** Host views of the model input and output (valid for the pipeline's life): a host inference
   * reads the input and writes the output here. */
  void* inputHost();
  void* outputHost();
  std::size_t inputBytes() const;
  std::size_t outputBytes() const;

  /** Device inference: the whole frame on the stream, one synchronisation at the end. */
  void setDeviceInference(std::unique_ptr<DeviceInference> inference);
  std::vector<StageRecord> runFrame(int slot, std::vector<Detection>& detections);

  /** Host inference: the stages before it (input ready on the host), then after it. */
  std::vector<StageRecord> beforeInference(int slot);
  std::vector<StageRecord> afterInference(std::vector<Detection>& detections);

  /** Which place each stage runs in, in order, for the run file (no timing). */
  std::vector<StageRecord> plan() const;

  const PipelineOptions& options() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

void validatePipelineOptions(const PipelineOptions& o);

}  // namespace jetbench
