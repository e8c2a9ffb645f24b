// Node-API conversions for the TensorRT runner (compiled only where TensorRT was found). Builds and
// inferences run on the thread pool (AsyncWorker); errors carry TensorRT's or CUDA's message.
#pragma once

#include <napi.h>

#include <memory>

#include "jetbench/tensorrt.h"
#include "promise_worker.h"

namespace jetbench {

class TensorRtEngineWrap : public Napi::ObjectWrap<TensorRtEngineWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "TensorRtEngine",
                       {InstanceMethod("tensors", &TensorRtEngineWrap::Tensors), InstanceMethod("engineBytes", &TensorRtEngineWrap::EngineBytes),
                        InstanceMethod("inferTimed", &TensorRtEngineWrap::InferTimed), InstanceMethod("profileLayers", &TensorRtEngineWrap::ProfileLayers),
                        InstanceMethod("close", &TensorRtEngineWrap::Close)});
  }
  explicit TensorRtEngineWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<TensorRtEngineWrap>(info) {
    try {
      runner_ = std::make_shared<TensorRtRunner>(info[0].As<Napi::String>().Utf8Value(), info[1].ToBoolean().Value());
    } catch (const std::exception& e) {
      Napi::Error err = Napi::Error::New(info.Env(), e.what());
      err.Set("code", Napi::String::New(info.Env(), dynamic_cast<const InvalidArgument*>(&e) ? "EINVAL" : "ENATIVE"));
      throw err;
    }
  }

 private:
  std::shared_ptr<TensorRtRunner> live(Napi::Env env) {
    if (!runner_) throw Napi::Error::New(env, "the TensorRT engine was closed");
    return runner_;
  }
  Napi::Value Tensors(const Napi::CallbackInfo& info) {
    auto r = live(info.Env());
    auto arr = Napi::Array::New(info.Env());
    uint32_t i = 0;
    for (const auto& t : r->tensors()) {
      auto o = Napi::Object::New(info.Env());
      o.Set("name", t.name);
      o.Set("input", t.input);
      o.Set("dtype", t.dtype);
      auto shape = Napi::Array::New(info.Env(), t.shape.size());
      for (uint32_t k = 0; k < t.shape.size(); ++k) shape.Set(k, Napi::Number::New(info.Env(), static_cast<double>(t.shape[k])));
      o.Set("shape", shape);
      arr.Set(i++, o);
    }
    return arr;
  }
  Napi::Value EngineBytes(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(live(info.Env())->engineBytes())); }
  Napi::Value InferTimed(const Napi::CallbackInfo& info) {
    auto r = live(info.Env());
    return queue(info.Env(), [r]() {
      const double ms = r->inferTimed();
      return std::function<Napi::Value(Napi::Env)>([ms](Napi::Env env) { return Napi::Number::New(env, ms); });
    });
  }
  Napi::Value ProfileLayers(const Napi::CallbackInfo& info) {
    auto r = live(info.Env());
    return queue(info.Env(), [r]() {
      auto layers = std::make_shared<std::vector<LayerTime>>(r->profileLayers());
      return std::function<Napi::Value(Napi::Env)>([layers](Napi::Env env) {
        auto arr = Napi::Array::New(env, layers->size());
        for (uint32_t i = 0; i < layers->size(); ++i) {
          auto o = Napi::Object::New(env);
          o.Set("name", (*layers)[i].name);
          o.Set("ms", (*layers)[i].ms);
          arr.Set(i, o);
        }
        return Napi::Value(arr);
      });
    });
  }
  Napi::Value Close(const Napi::CallbackInfo& info) {
    runner_.reset();
    return info.Env().Undefined();
  }
  std::shared_ptr<TensorRtRunner> runner_;
};

inline Napi::Value TensorRtBuild(const Napi::CallbackInfo& info) {
  auto o = info[0].As<Napi::Object>();
  TensorRtBuildOptions b;
  b.onnxPath = o.Get("onnxPath").As<Napi::String>().Utf8Value();
  b.enginePath = o.Get("enginePath").As<Napi::String>().Utf8Value();
  b.precision = o.Get("precision").As<Napi::String>().Utf8Value();
  b.workspaceBytes = static_cast<std::size_t>(o.Get("workspaceBytes").As<Napi::Number>().DoubleValue());
  if (o.Has("timingCachePath")) b.timingCachePath = o.Get("timingCachePath").As<Napi::String>().Utf8Value();
  if (o.Has("calibrationCachePath")) b.calibrationCachePath = o.Get("calibrationCachePath").As<Napi::String>().Utf8Value();
  if (o.Has("calibrationInputs")) {
    auto inputs = o.Get("calibrationInputs").As<Napi::Array>();
    for (uint32_t i = 0; i < inputs.Length(); ++i) {
      auto a = inputs.Get(i).As<Napi::Float32Array>();
      b.calibrationInputs.emplace_back(a.Data(), a.Data() + a.ElementLength());
    }
  }
  return queue(info.Env(), [b]() {
    auto r = std::make_shared<TensorRtBuildResult>(buildTensorRtEngine(b));
    return std::function<Napi::Value(Napi::Env)>([r](Napi::Env env) {
      auto out = Napi::Object::New(env);
      out.Set("engineBytes", static_cast<double>(r->engineBytes));
      out.Set("buildMs", r->buildMs);
      out.Set("calibrated", r->calibrated);
      out.Set("log", r->log);
      return Napi::Value(out);
    });
  });
}

inline void addTensorRt(Napi::Env env, Napi::Object exports) {
  auto trt = Napi::Object::New(env);
  trt.Set("headerVersion", tensorrtHeaderVersion());
  trt.Set("libraryVersion", tensorrtLibraryVersion());
  trt.Set("build", Napi::Function::New(env, TensorRtBuild));
  trt.Set("Engine", TensorRtEngineWrap::Define(env));
  exports.Set("tensorrt", trt);
}

}  // namespace jetbench
