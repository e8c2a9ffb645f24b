// GPU benchmarks of the native kernels and the pipeline (bench/gpu/run.sh drives this and the
// PyTorch / torchvision / OpenCV anchors, then prints one table). Raw per-iteration times come
// from CUDA events; the summary is the median. Writes JSON to stdout.
//   gpu_bench preprocess FRAME.bgr W H ITERS           letterbox fp32/fp16 + device-to-device bandwidth
//   gpu_bench nms PRED.f32 ROWS COLS ITERS BOXES.out   decode + NMS; kept boxes written for comparison
//   gpu_bench pipeline FRAME.bgr W H PRED.f32 ITERS    conventional vs zerocopy, every memory mode
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "jetbench/kernels.h"
#include "jetbench/letterbox.h"
#include "jetbench/memory.h"
#include "jetbench/pipeline.h"

using namespace jetbench;

namespace {

std::vector<char> readFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw InvalidArgument("cannot read " + path);
  return std::vector<char>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/** Device-to-device copy bandwidth, counting bytes read and written. */
double deviceBandwidthBytesPerMs() {
  const std::size_t bytes = 1ull << 30;
  DeviceBuffer a(bytes), b(bytes);
  JB_CUDA(cudaMemset(a.get(), 1, bytes));
  CudaStream s;
  CudaEvent e0, e1;
  std::vector<double> ms;
  for (int i = 0; i < 12; ++i) {
    e0.record(s.get());
    JB_CUDA(cudaMemcpyAsync(b.get(), a.get(), bytes, cudaMemcpyDeviceToDevice, s.get()));
    e1.record(s.get());
    s.sync();
    if (i >= 2) ms.push_back(e1.since(e0));
  }
  return 2.0 * bytes / median(ms);
}

int preprocess(int argc, char** argv) {
  if (argc < 6) throw InvalidArgument("usage: gpu_bench preprocess FRAME.bgr W H ITERS");
  const auto frame = readFile(argv[2]);
  const int w = std::stoi(argv[3]), h = std::stoi(argv[4]), iters = std::stoi(argv[5]);
  // Rotate among copies larger than L2 together, so the frame is read from memory as a camera's would be.
  const int copies = 16;
  std::vector<DeviceBuffer> frames;
  for (int i = 0; i < copies; ++i) {
    frames.emplace_back(frame.size());
    JB_CUDA(cudaMemcpy(frames.back().get(), frame.data(), frame.size(), cudaMemcpyHostToDevice));
  }
  const double bw = deviceBandwidthBytesPerMs();
  std::ostringstream json;
  json << "{\"bench\":\"preprocess\",\"width\":" << w << ",\"height\":" << h << ",\"deviceBandwidthGBs\":" << bw / 1e6;
  // Launch overhead for scale: an empty 4-byte memset between the same two events.
  {
    CudaStream s;
    DeviceBuffer tiny(4);
    std::vector<double> ms;
    for (int i = 0; i < 220; ++i) {
      CudaEvent a, b;
      a.record(s.get());
      JB_CUDA(cudaMemsetAsync(tiny.get(), 0, 4, s.get()));
      b.record(s.get());
      s.sync();
      if (i >= 20) ms.push_back(b.since(a));
    }
    json << ",\"tinyMemsetMs\":" << median(ms);
  }
  for (TensorType t : {TensorType::Float32, TensorType::Float16}) {
    DeviceBuffer out(3 * 640 * 640 * elementBytes(t));
    CudaStream s;
    const double bytes = double(frame.size()) + double(out.bytes());
    json << ",\"" << tensorTypeName(t) << "\":{\"bytesMoved\":" << bytes << ",\"floorMs\":" << bytes / bw;
    std::vector<CudaEvent> ev(2 * iters);
    for (int i = 0; i < 20; ++i) letterboxGpu(FrameView{frames[i % copies].as<std::uint8_t>(), w, h, 3 * w}, 640, t, out.get(), s.get());
    for (int i = 0; i < iters; ++i) {
      ev[2 * i].record(s.get());
      letterboxGpu(FrameView{frames[i % copies].as<std::uint8_t>(), w, h, 3 * w}, 640, t, out.get(), s.get());
      ev[2 * i + 1].record(s.get());
    }
    s.sync();
    std::vector<double> ms;
    for (int i = 0; i < iters; ++i) ms.push_back(ev[2 * i + 1].since(ev[2 * i]));
    // Back to back: many launches between two events, so launch gaps overlap with work; the
    // kernel's own throughput per frame (what a batch or a busy stream sees).
    std::vector<double> amortized;
    for (int r = 0; r < 10; ++r) {
      CudaEvent a, b;
      a.record(s.get());
      for (int i = 0; i < 100; ++i) letterboxGpu(FrameView{frames[i % copies].as<std::uint8_t>(), w, h, 3 * w}, 640, t, out.get(), s.get());
      b.record(s.get());
      s.sync();
      amortized.push_back(b.since(a) / 100.0);
    }
    json << ",\"medianMs\":" << median(ms) << ",\"backToBackMs\":" << median(amortized);
    json << "}";
  }
  // The CPU reference on one frame, for scale.
  std::vector<float> cpuOut(3 * 640 * 640);
  std::vector<double> cpuMs;
  for (int i = 0; i < 5; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    letterboxCpu(FrameView{reinterpret_cast<const std::uint8_t*>(frame.data()), w, h, 3 * w}, 640, TensorType::Float32, cpuOut.data());
    cpuMs.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  json << ",\"cpuReferenceMs\":" << median(cpuMs) << "}";
  std::cout << json.str() << std::endl;
  return 0;
}

int nms(int argc, char** argv) {
  if (argc < 7) throw InvalidArgument("usage: gpu_bench nms PRED.f32 ROWS COLS ITERS BOXES.out");
  const auto pred = readFile(argv[2]);
  const int rows = std::stoi(argv[3]), cols = std::stoi(argv[4]), iters = std::stoi(argv[5]);
  if (pred.size() != std::size_t(rows) * cols * 4) throw InvalidArgument("prediction file size does not match rows x cols float32");
  NmsOptions o;
  DeviceBuffer dPred(pred.size()), dDets(sizeof(Detection) * o.maxDetections), dCount(sizeof(int));
  JB_CUDA(cudaMemcpy(dPred.get(), pred.data(), pred.size(), cudaMemcpyHostToDevice));
  GpuNms g(rows, cols, o);
  CudaStream s;
  std::vector<CudaEvent> ev(2 * iters);
  // 20 calls to warm up, then `iters` calls, each between two events on the stream.
  const auto timeCalls = [&]() {
    for (int i = 0; i < 20; ++i) g.enqueue(dPred.get(), TensorType::Float32, dDets.as<Detection>(), dCount.as<int>(), s.get());
    for (int i = 0; i < iters; ++i) {
      ev[2 * i].record(s.get());
      g.enqueue(dPred.get(), TensorType::Float32, dDets.as<Detection>(), dCount.as<int>(), s.get());
      ev[2 * i + 1].record(s.get());
    }
    s.sync();
    std::vector<double> out;
    for (int i = 0; i < iters; ++i) out.push_back(ev[2 * i + 1].since(ev[2 * i]));
    return out;
  };
  const std::vector<double> ms = timeCalls();
  // The same launches one by one from the host (no graph): the host's launch cost shows here.
  g.setUseGraph(false);
  const std::vector<double> directMs = timeCalls();
  g.setUseGraph(true);
  // Per stage (separate launches with an event between each stage: their sum exceeds the whole).
  std::vector<std::vector<double>> stageMs(GpuNms::kStages);
  {
    std::vector<CudaEvent> st(GpuNms::kStages + 1);
    std::vector<cudaEvent_t> raw;
    for (auto& e : st) raw.push_back(e.get());
    for (int i = 0; i < std::min(iters, 200); ++i) {
      g.enqueue(dPred.get(), TensorType::Float32, dDets.as<Detection>(), dCount.as<int>(), s.get(), raw.data());
      s.sync();
      for (int k = 0; k < GpuNms::kStages; ++k) stageMs[k].push_back(st[k + 1].since(st[k]));
    }
  }
  int count = 0;
  JB_CUDA(cudaMemcpy(&count, dCount.get(), sizeof(int), cudaMemcpyDeviceToHost));
  std::vector<Detection> d(count);
  if (count) JB_CUDA(cudaMemcpy(d.data(), dDets.get(), sizeof(Detection) * count, cudaMemcpyDeviceToHost));
  std::ofstream(argv[6], std::ios::binary).write(reinterpret_cast<const char*>(d.data()), sizeof(Detection) * d.size());

  PredictionsView view{pred.data(), TensorType::Float32, rows, cols};
  std::vector<double> cpuMs;
  std::vector<Detection> ref;
  for (int i = 0; i < 5; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    ref = decodeNmsCpu(view, o);
    cpuMs.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  int candidates = 0;
  std::vector<int> perClass(cols - 5, 0);
  for (int r = 0; r < rows; ++r) {
    const float* p = reinterpret_cast<const float*>(pred.data()) + std::size_t(r) * cols;
    float box[4], score;
    int cls;
    if (decodeRow([p](int i) { return p[i]; }, cols, o.confThreshold, box, &score, &cls)) {
      ++candidates;
      ++perClass[cls];
    }
  }
  const int classes = static_cast<int>(std::count_if(perClass.begin(), perClass.end(), [](int n) { return n > 0; }));
  const int largestClass = perClass.empty() ? 0 : *std::max_element(perClass.begin(), perClass.end());
  std::string input = argv[2];
  input = input.substr(input.find_last_of('/') + 1);
  const bool same = ref.size() == d.size() && std::memcmp(ref.data(), d.data(), sizeof(Detection) * d.size()) == 0;
  std::cout << "{\"bench\":\"nms\",\"input\":\"" << input << "\",\"rows\":" << rows << ",\"candidates\":" << candidates << ",\"classes\":" << classes
            << ",\"largestClass\":" << largestClass << ",\"kept\":" << count << ",\"medianMs\":" << median(ms) << ",\"directMs\":" << median(directMs) << ",\"minMs\":" << *std::min_element(ms.begin(), ms.end())
            << ",\"cpuReferenceMs\":" << median(cpuMs) << ",\"deviceBytes\":" << g.deviceBytes() << ",\"stagesMs\":{" << [&] {
                 std::ostringstream o;
                 for (int k = 0; k < GpuNms::kStages; ++k) o << (k ? "," : "") << "\"" << GpuNms::stageName(k) << "\":" << median(stageMs[k]);
                 return o.str();
               }() << "}" << ",\"sameAsCpuReference\":" << (same ? "true" : "false") << "}"
            << std::endl;
  return same ? 0 : 1;
}

int pipeline(int argc, char** argv) {
  if (argc < 7) throw InvalidArgument("usage: gpu_bench pipeline FRAME.bgr W H PRED.f32 ITERS");
  const auto frame = readFile(argv[2]);
  const int w = std::stoi(argv[3]), h = std::stoi(argv[4]);
  const auto pred = readFile(argv[5]);
  const int iters = std::stoi(argv[6]);
  std::cout << "{\"bench\":\"pipeline\",\"inference\":\"replay stand-in (device-to-device copy of a stored yolov5s output)\",\"runs\":[";
  bool first = true;
  for (PipelineMode mode : {PipelineMode::Conventional, PipelineMode::ZeroCopy}) {
    for (MemoryMode m : {MemoryMode::Pageable, MemoryMode::Pinned, MemoryMode::Mapped, MemoryMode::Managed}) {
      PipelineOptions o;
      o.mode = mode;
      o.memory = m;
      o.inference = InferencePlace::Device;
      Pipeline p(o);
      const int slot = p.addFrame(FrameView{reinterpret_cast<const std::uint8_t*>(frame.data()), w, h, 3 * w}, frame.size());
      p.setDeviceInference(makeReplayInference(pred.data(), pred.size()));
      std::vector<Detection> d;
      for (int i = 0; i < 5; ++i) p.runFrame(slot, d);
      std::vector<double> nonInference, inference, wall;
      std::vector<std::pair<std::string, std::vector<double>>> perStage;
      for (int i = 0; i < iters; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        const auto stages = p.runFrame(slot, d);
        wall.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
        double non = 0;
        if (perStage.empty())
          for (const auto& s : stages) perStage.push_back({s.name, {}});
        for (std::size_t k = 0; k < stages.size(); ++k) {
          perStage[k].second.push_back(stages[k].ms);
          if (stages[k].name == "inference") inference.push_back(stages[k].ms);
          else non += stages[k].ms;
        }
        nonInference.push_back(non);
      }
      std::cout << (first ? "" : ",") << "{\"mode\":\"" << (mode == PipelineMode::ZeroCopy ? "zerocopy" : "conventional") << "\",\"memory\":\""
                << memoryModeName(m) << "\",\"detections\":" << d.size() << ",\"nonInferenceMs\":" << median(nonInference)
                << ",\"inferenceMs\":" << median(inference) << ",\"wallMs\":" << median(wall) << ",\"stages\":{";
      for (std::size_t k = 0; k < perStage.size(); ++k) std::cout << (k ? "," : "") << "\"" << perStage[k].first << "\":" << median(perStage[k].second);
      std::cout << "}}";
      first = false;
    }
  }
  std::cout << "]}" << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string cmd = argc > 1 ? argv[1] : "";
    if (cmd == "preprocess") return preprocess(argc, argv);
    if (cmd == "nms") return nms(argc, argv);
    if (cmd == "pipeline") return pipeline(argc, argv);
    std::cerr << "usage: gpu_bench preprocess|nms|pipeline ..." << std::endl;
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "gpu_bench: " << e.what() << std::endl;
    return 1;
  }
}
