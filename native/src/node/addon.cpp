// The Node-API layer: converts between JavaScript values and the C++ core, nothing else. Core
// exceptions become JavaScript errors carrying the native message (code EINVAL for bad input,
// ENATIVE for runtime failures); pipeline stages run on libuv's thread pool (AsyncWorker), never
// on the JavaScript thread.
#include <napi.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <stdexcept>

#include "jetbench/build_info.h"
#include "jetbench/detect.h"
#include "jetbench/letterbox.h"
#include "jetbench/pipeline.h"
#include "promise_worker.h"
#ifdef JETBENCH_WITH_TENSORRT
#include "tensorrt_binding.h"
#endif
#ifdef JETBENCH_WITH_TORCH
#include "jetbench/torch_inference.h"
#endif

namespace {

using namespace jetbench;

Napi::Error toJsError(Napi::Env env, const std::exception& e) {
  Napi::Error err = Napi::Error::New(env, e.what());
  const bool bad = dynamic_cast<const InvalidArgument*>(&e) != nullptr;
  err.Set("code", Napi::String::New(env, bad ? "EINVAL" : "ENATIVE"));
  return err;
}

template <typename F>
auto guarded(Napi::Env env, F&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::exception& e) {
    throw toJsError(env, e);
  }
}

TensorType tensorType(const Napi::Value& v) {
  const std::string s = v.As<Napi::String>().Utf8Value();
  if (s == "float32") return TensorType::Float32;
  if (s == "float16") return TensorType::Float16;
  throw InvalidArgument("tensor type '" + s + "' is not float32 or float16");
}

int intArg(const Napi::Value& v, const char* name) {
  if (!v.IsNumber()) throw InvalidArgument(std::string(name) + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (d != static_cast<double>(static_cast<long long>(d)) || d < -2147483648.0 || d > 2147483647.0) {
    throw InvalidArgument(std::string(name) + " must be a whole number (got " + std::to_string(d) + ")");
  }
  return static_cast<int>(d);
}

FrameView frameArg(const Napi::CallbackInfo& info, std::size_t& bytes) {
  if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    throw InvalidArgument("frame data must be a Uint8Array (BGR, HWC)");
  }
  auto data = info[0].As<Napi::Uint8Array>();
  FrameView f;
  f.data = data.Data();
  f.width = intArg(info[1], "width");
  f.height = intArg(info[2], "height");
  f.strideBytes = intArg(info[3], "strideBytes");
  bytes = data.ByteLength();
  return f;
}

NmsOptions nmsOptions(const Napi::Object& o) {
  NmsOptions n;
  if (o.Has("confThreshold")) n.confThreshold = o.Get("confThreshold").As<Napi::Number>().FloatValue();
  if (o.Has("iouThreshold")) n.iouThreshold = o.Get("iouThreshold").As<Napi::Number>().FloatValue();
  if (o.Has("maxDetections")) n.maxDetections = intArg(o.Get("maxDetections"), "maxDetections");
  if (o.Has("maxCandidates")) n.maxCandidates = intArg(o.Get("maxCandidates"), "maxCandidates");
  if (o.Has("head")) {
    const std::string head = o.Get("head").As<Napi::String>().Utf8Value();
    if (head == "yolov5") n.head = HeadLayout::YoloV5;
    else if (head == "nanodet") n.head = HeadLayout::NanoDet;
    else throw InvalidArgument("head layout '" + head + "' is not yolov5 or nanodet");
  }
  if (o.Has("inputSize")) n.inputSize = intArg(o.Get("inputSize"), "inputSize");
  return n;
}

/** { kind: 'letterbox' } or { kind: 'stretch', meanBgr: [3], stdBgr: [3] }. */
PreprocessSpec preprocessSpec(const Napi::Value& v) {
  PreprocessSpec spec;
  if (v.IsUndefined()) return spec;
  if (!v.IsObject()) throw InvalidArgument("preprocess must be an object { kind, meanBgr, stdBgr }");
  auto o = v.As<Napi::Object>();
  const std::string kind = o.Get("kind").As<Napi::String>().Utf8Value();
  if (kind == "letterbox") return spec;
  if (kind != "stretch") throw InvalidArgument("preprocess kind '" + kind + "' is not letterbox or stretch");
  spec.kind = PreprocessKind::Stretch;
  auto three = [&](const char* name, float* out) {
    const Napi::Value a = o.Get(name);
    if (!a.IsArray() || a.As<Napi::Array>().Length() != 3) throw InvalidArgument(std::string("preprocess ") + name + " must be 3 numbers (B, G, R)");
    for (uint32_t i = 0; i < 3; ++i) out[i] = a.As<Napi::Array>().Get(i).As<Napi::Number>().FloatValue();
  };
  three("meanBgr", spec.meanBgr);
  three("stdBgr", spec.stdBgr);
  validatePreprocess(spec);
  return spec;
}

/** letterbox(data, width, height, strideBytes, size, type) and preprocess(..., spec): the CPU reference. */
Napi::Value Preprocess(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    std::size_t bytes = 0;
    const FrameView f = frameArg(info, bytes);
    validateFrame(f, bytes);
    const int size = intArg(info[4], "size");
    const TensorType type = tensorType(info[5]);
    const PreprocessSpec spec = preprocessSpec(info[6]);
    preprocessPlan(f.width, f.height, size, spec);
    const std::size_t n = 3 * std::size_t(size) * size;
    if (type == TensorType::Float32) {
      auto out = Napi::Float32Array::New(env, n);
      preprocessCpu(f, size, spec, type, out.Data());
      return out;
    }
    auto out = Napi::Uint16Array::New(env, n);
    preprocessCpu(f, size, spec, type, out.Data());
    return out;
  });
}

Napi::Float32Array detectionsToJs(Napi::Env env, const std::vector<Detection>& d) {
  auto out = Napi::Float32Array::New(env, d.size() * 6);
  for (std::size_t i = 0; i < d.size(); ++i) {
    float* o = out.Data() + i * 6;
    o[0] = d[i].x1;
    o[1] = d[i].y1;
    o[2] = d[i].x2;
    o[3] = d[i].y2;
    o[4] = d[i].score;
    o[5] = static_cast<float>(d[i].classId);
  }
  return out;
}

Napi::Value DecodeNms(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    if (!info[0].IsTypedArray()) throw InvalidArgument("predictions must be a Float32Array (float32) or Uint16Array (float16 bits)");
    auto arr = info[0].As<Napi::TypedArray>();
    PredictionsView p;
    p.type = arr.TypedArrayType() == napi_float32_array ? TensorType::Float32 : TensorType::Float16;
    if (arr.TypedArrayType() != napi_float32_array && arr.TypedArrayType() != napi_uint16_array) {
      throw InvalidArgument("predictions must be a Float32Array (float32) or Uint16Array (float16 bits)");
    }
    p.data = static_cast<const char*>(arr.ArrayBuffer().Data()) + arr.ByteOffset();
    p.rows = intArg(info[1], "rows");
    p.cols = intArg(info[2], "cols");
    const NmsOptions o = info[3].IsObject() ? nmsOptions(info[3].As<Napi::Object>()) : NmsOptions{};
    validatePredictions(p, o);
    if (static_cast<std::size_t>(p.rows) * p.cols != arr.ElementLength()) {
      throw InvalidArgument("predictions have " + std::to_string(arr.ElementLength()) + " values, not rows x cols = " +
                            std::to_string(static_cast<long long>(p.rows) * p.cols));
    }
    return detectionsToJs(env, decodeNmsCpu(p, o));
  });
}

Napi::Object stageToJs(Napi::Env env, const StageRecord& r) {
  auto o = Napi::Object::New(env);
  o.Set("name", r.name);
  o.Set("where", stagePlaceName(r.where));
  o.Set("clock", r.cudaEvents ? "cuda-event" : "host");
  o.Set("ms", r.ms);
  return o;
}

Napi::Array stagesToJs(Napi::Env env, const std::vector<StageRecord>& stages) {
  auto a = Napi::Array::New(env, stages.size());
  for (std::size_t i = 0; i < stages.size(); ++i) a.Set(static_cast<uint32_t>(i), stageToJs(env, stages[i]));
  return a;
}

class PipelineWrap : public Napi::ObjectWrap<PipelineWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Pipeline",
                       {InstanceMethod("addFrame", &PipelineWrap::AddFrame), InstanceMethod("inputView", &PipelineWrap::InputView),
                        InstanceMethod("outputView", &PipelineWrap::OutputView), InstanceMethod("plan", &PipelineWrap::Plan),
                        InstanceMethod("useReplayInference", &PipelineWrap::UseReplayInference),
                        InstanceMethod("useTorchInference", &PipelineWrap::UseTorchInference),
                        InstanceMethod("beforeInference", &PipelineWrap::BeforeInference),
                        InstanceMethod("afterInference", &PipelineWrap::AfterInference), InstanceMethod("runFrame", &PipelineWrap::RunFrame),
                        InstanceMethod("close", &PipelineWrap::Close)});
  }

  explicit PipelineWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<PipelineWrap>(info) {
    Napi::Env env = info.Env();
    guarded(env, [&] {
      if (!info[0].IsObject()) throw InvalidArgument("Pipeline needs an options object");
      auto o = info[0].As<Napi::Object>();
      PipelineOptions p;
      const std::string mode = o.Get("mode").As<Napi::String>().Utf8Value();
      if (mode == "conventional") p.mode = PipelineMode::Conventional;
      else if (mode == "zerocopy") p.mode = PipelineMode::ZeroCopy;
      else throw InvalidArgument("pipeline mode '" + mode + "' is not conventional or zerocopy");
      const std::string memory = o.Get("memory").As<Napi::String>().Utf8Value();
      if (memory == "pageable") p.memory = MemoryMode::Pageable;
      else if (memory == "pinned") p.memory = MemoryMode::Pinned;
      else if (memory == "mapped") p.memory = MemoryMode::Mapped;
      else if (memory == "managed") p.memory = MemoryMode::Managed;
      else throw InvalidArgument("memory mode '" + memory + "' is not pageable, pinned, mapped or managed");
      const std::string inference = o.Get("inference").As<Napi::String>().Utf8Value();
      if (inference == "host") p.inference = InferencePlace::Host;
      else if (inference == "device") p.inference = InferencePlace::Device;
      else throw InvalidArgument("inference place '" + inference + "' is not host or device");
      p.inputSize = intArg(o.Get("inputSize"), "inputSize");
      p.inputType = tensorType(o.Get("inputType"));
      p.outputRows = intArg(o.Get("outputRows"), "outputRows");
      p.outputCols = intArg(o.Get("outputCols"), "outputCols");
      p.outputType = tensorType(o.Get("outputType"));
      if (o.Has("nms")) p.nms = nmsOptions(o.Get("nms").As<Napi::Object>());
      p.preprocess = preprocessSpec(o.Get("preprocess"));
      pipeline_ = std::make_unique<Pipeline>(p);
    });
  }

 private:
  Pipeline& live() {
    if (!pipeline_) throw InvalidArgument("the pipeline was closed");
    if (*busy_) throw InvalidArgument("the pipeline is still running a call: await it before the next");
    return *pipeline_;
  }

  Napi::Value AddFrame(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      std::size_t bytes = 0;
      const FrameView f = frameArg(info, bytes);
      return Napi::Number::New(info.Env(), live().addFrame(f, bytes));
    });
  }

  Napi::Value View(Napi::Env env, void* data, std::size_t bytes, TensorType type) {
    // External memory owned by the pipeline: the wrapper keeps the pipeline alive while views are used.
    auto buffer = Napi::ArrayBuffer::New(env, data, bytes);
    if (type == TensorType::Float32) return Napi::Float32Array::New(env, bytes / 4, buffer, 0);
    return Napi::Uint16Array::New(env, bytes / 2, buffer, 0);
  }
  Napi::Value InputView(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&] { return View(info.Env(), live().inputHost(), live().inputBytes(), live().options().inputType); });
  }
  Napi::Value OutputView(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&] { return View(info.Env(), live().outputHost(), live().outputBytes(), live().options().outputType); });
  }
  Napi::Value Plan(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value { return stagesToJs(info.Env(), live().plan()); });
  }
  Napi::Value UseReplayInference(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      if (!info[0].IsTypedArray()) throw InvalidArgument("the replayed output must be a typed array");
      auto arr = info[0].As<Napi::TypedArray>();
      Pipeline& p = live();
      if (arr.ByteLength() != p.outputBytes()) {
        throw InvalidArgument("the replayed output has " + std::to_string(arr.ByteLength()) + " bytes; the model output has " + std::to_string(p.outputBytes()));
      }
      p.setDeviceInference(makeReplayInference(static_cast<const char*>(arr.ArrayBuffer().Data()) + arr.ByteOffset(), arr.ByteLength()));
      return info.Env().Undefined();
    });
  }
  /** PyTorch as the device inference: a TorchScript file run by libtorch in the pipeline's own
   * device buffers and stream (where the addon was built with libtorch). */
  Napi::Value UseTorchInference(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      if (!info[0].IsString()) throw InvalidArgument("the TorchScript file must be a path");
#ifdef JETBENCH_WITH_TORCH
      Pipeline& p = live();
      if (p.options().inference != InferencePlace::Device) throw InvalidArgument("PyTorch runs as a device inference: create the pipeline with inference 'device'");
      p.setDeviceInference(makeTorchScriptInference(info[0].As<Napi::String>().Utf8Value(), p.options()));
      return info.Env().Undefined();
#else
      throw std::runtime_error("this native addon was built without libtorch (PyTorch): rebuild it where a CUDA build of torch is importable (node agent.js build-native --force; JETBENCH_PYTHON picks the Python)");
#endif
    });
  }
  using StageWork = std::function<std::vector<StageRecord>(std::vector<Detection>&)>;
  /** Runs one pipeline call on the thread pool; resolves to {stages, detections?}. */
  Napi::Value Queue(Napi::Env env, StageWork work, bool withDetections) {
    live();
    *busy_ = true;
    auto busy = busy_;
    return queue(env, [work, withDetections, busy]() {
      struct Done {
        std::shared_ptr<std::atomic<bool>> busy;
        ~Done() { *busy = false; }
      } done{busy};
      auto detections = std::make_shared<std::vector<Detection>>();
      auto stages = std::make_shared<std::vector<StageRecord>>(work(*detections));
      return std::function<Napi::Value(Napi::Env)>([stages, detections, withDetections](Napi::Env env) {
        auto result = Napi::Object::New(env);
        result.Set("stages", stagesToJs(env, *stages));
        if (withDetections) result.Set("detections", detectionsToJs(env, *detections));
        return Napi::Value(result);
      });
    });
  }
  Napi::Value BeforeInference(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&] {
      const int slot = intArg(info[0], "slot");
      Pipeline* p = &live();
      return Queue(info.Env(), [p, slot](std::vector<Detection>&) { return p->beforeInference(slot); }, false);
    });
  }
  Napi::Value AfterInference(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&] {
      Pipeline* p = &live();
      return Queue(info.Env(), [p](std::vector<Detection>& d) { return p->afterInference(d); }, true);
    });
  }
  Napi::Value RunFrame(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&] {
      const int slot = intArg(info[0], "slot");
      Pipeline* p = &live();
      return Queue(info.Env(), [p, slot](std::vector<Detection>& d) { return p->runFrame(slot, d); }, true);
    });
  }
  Napi::Value Close(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      if (*busy_) throw InvalidArgument("the pipeline is still running a call: await it before close()");
      pipeline_.reset();
      return info.Env().Undefined();
    });
  }

  std::unique_ptr<Pipeline> pipeline_;
  std::shared_ptr<std::atomic<bool>> busy_ = std::make_shared<std::atomic<bool>>(false);
};

Napi::Value BuildInfoJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto o = Napi::Object::New(env);
  o.Set("version", JETBENCH_NATIVE_VERSION);
  o.Set("sourceHash", JETBENCH_SOURCE_HASH);
  o.Set("cuda", JETBENCH_HAS_CUDA != 0);
  o.Set("cudaArchitectures", JETBENCH_CUDA_ARCHITECTURES);
  o.Set("tensorrt", JETBENCH_HAS_TENSORRT ? Napi::Value(Napi::String::New(env, JETBENCH_TENSORRT_VERSION)) : env.Null());
  o.Set("torch", JETBENCH_HAS_TORCH ? Napi::Value(Napi::String::New(env, JETBENCH_TORCH_VERSION)) : env.Null());
  o.Set("compiler", JETBENCH_COMPILER);
  const CudaAvailability cuda = cudaAvailability();
  auto c = Napi::Object::New(env);
  c.Set("compiled", cuda.compiled);
  c.Set("devices", cuda.devices);
  c.Set("deviceName", cuda.deviceName);
  c.Set("runtimeVersion", cuda.runtimeVersion);
  c.Set("reason", cuda.reason);
  o.Set("cudaStatus", c);
  return o;
}

/** A deliberate native crash, so tests can prove that the agent survives one. Refuses unless
 * JETBENCH_NATIVE_TEST_CRASH is set (non-empty) in the worker's environment. */
Napi::Value CrashForTest(const Napi::CallbackInfo& info) {
  const char* allowed = std::getenv("JETBENCH_NATIVE_TEST_CRASH");
  if (!allowed || std::strlen(allowed) == 0) {
    throw Napi::Error::New(info.Env(), "crashForTest is disabled: it needs JETBENCH_NATIVE_TEST_CRASH set");
  }
  std::raise(SIGSEGV);
  return info.Env().Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("buildInfo", Napi::Function::New(env, BuildInfoJs));
  exports.Set("letterbox", Napi::Function::New(env, Preprocess));
  exports.Set("preprocess", Napi::Function::New(env, Preprocess));
  exports.Set("decodeNms", Napi::Function::New(env, DecodeNms));
  exports.Set("Pipeline", PipelineWrap::Define(env));
  exports.Set("crashForTest", Napi::Function::New(env, CrashForTest));
#ifdef JETBENCH_WITH_TENSORRT
  jetbench::addTensorRt(env, exports);
#endif
  return exports;
}

}  // namespace

NODE_API_MODULE(jetbench_native, Init)
