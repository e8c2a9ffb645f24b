// A Promise-returning call whose work runs on libuv's thread pool (never the JavaScript thread):
// the work returns a converter that builds the JavaScript result back on the JavaScript thread.
// Core exceptions reject with the native message (code EINVAL for bad input, ENATIVE otherwise).
#pragma once

#include <napi.h>

#include <functional>

#include "jetbench/common.h"

namespace jetbench {

/** A Promise-returning call whose work runs off the JavaScript thread. */
class PromiseWorker : public Napi::AsyncWorker {
 public:
  using Work = std::function<std::function<Napi::Value(Napi::Env)>()>;
  PromiseWorker(Napi::Env env, Work work) : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), work_(std::move(work)) {}
  Napi::Promise promise() { return deferred_.Promise(); }
  void Execute() override {
    try {
      result_ = work_();
    } catch (const InvalidArgument& e) {
      invalid_ = true;
      SetError(e.what());
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }
  void OnOK() override { deferred_.Resolve(result_(Env())); }
  void OnError(const Napi::Error& e) override {
    Napi::Error err = Napi::Error::New(Env(), e.Message());
    err.Set("code", Napi::String::New(Env(), invalid_ ? "EINVAL" : "ENATIVE"));
    deferred_.Reject(err.Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  Work work_;
  std::function<Napi::Value(Napi::Env)> result_;
  bool invalid_ = false;
};

inline Napi::Value queue(Napi::Env env, PromiseWorker::Work work) {
  auto* w = new PromiseWorker(env, std::move(work));
  w->Queue();
  return w->promise();
}

}  // namespace jetbench
