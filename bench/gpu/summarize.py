"""Prints the GPU benchmark table from the JSON lines bench/gpu/run.sh collected."""
import json
import sys

rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
by = {}
for r in rows:
    by.setdefault(r["bench"], []).append(r)

print("\n== Preprocess 1920x1080 -> 1x3x640x640 (median ms; CUDA events for GPU, host clock for CPU)")
for ours, anchor in zip(by.get("preprocess", []), by.get("preprocess-anchors", [])):
    print(f"device-to-device bandwidth {ours['deviceBandwidthGBs']:.0f} GB/s (read + write)")
    for t in ("float32", "float16"):
        o = ours[t]
        torch_ms = anchor[f"torch_{t}_ms"]
        print(f"{t}: ours {o['medianMs']*1000:.1f} us per launch, {o['backToBackMs']*1000:.1f} us back to back | torch CUDA {torch_ms*1000:.1f} us "
              f"({torch_ms/o['medianMs']:.1f}x) | memory floor {o['floorMs']*1000:.1f} us (per launch {o['medianMs']/o['floorMs']:.2f}x floor, "
              f"back to back {o['backToBackMs']/o['floorMs']:.2f}x; {o['bytesMoved']/1e6:.1f} MB moved)")
    if 'tinyMemsetMs' in ours:
        print(f"launch overhead for scale: a 4-byte cudaMemsetAsync between the same two events {ours['tinyMemsetMs']*1000:.1f} us")
    print(f"OpenCV CPU float32 {anchor['opencv_cpu_float32_ms']:.2f} ms ({anchor['opencvThreads']} threads); "
          f"our CPU reference {ours['cpuReferenceMs']:.2f} ms (1 thread)")

print("\n== Decode + NMS on 25200x85 (yolov5s output on synthetic scenes, then synthetic clusters at 4,500/9,000/20,000 candidates; "
      "median per launch (one CUDA graph launch), CUDA events; goal: >= 5x torchvision from 4,000 candidates, <= 80 us at ~450, same boxes)")
for ours, anchor in zip(by.get("nms", []), by.get("nms-anchors", [])):
    ratio = anchor['torchvision_batched_nms_ms'] / ours['medianMs']
    same = ours['sameAsCpuReference'] and anchor['sameBoxesAsTorchvision']
    print(f"{ours.get('input', '')}: candidates {ours['candidates']} ({ours.get('classes', '?')} classes, largest {ours.get('largestClass', '?')}), kept {ours['kept']}: "
          f"ours {ours['medianMs']*1000:.1f} us | torchvision {anchor['torchvision_batched_nms_ms']*1000:.1f} us ({ratio:.1f}x) | "
          f"{'same boxes' if same else 'DIFFERENT BOXES'} (as CPU reference: {ours['sameAsCpuReference']}, as torchvision: "
          f"{anchor['sameBoxesAsTorchvision']}, kept {anchor['ours_kept']} vs {anchor['torchvision_kept']}) | CPU reference {ours['cpuReferenceMs']:.2f} ms"
          + (f" | GPU memory {ours['deviceBytes']/2**20:.1f} MiB" if 'deviceBytes' in ours else ""))
    if 'stagesMs' in ours:
        print(f"    launched one by one (no graph): {ours['directMs']*1000:.1f} us; stages (us, each between its own events, one by one): "
              + ", ".join(f"{k} {v*1000:.1f}" for k, v in ours['stagesMs'].items()))

for p in by.get("pipeline", []):
    print(f"\n== Pipeline per frame, inference = {p['inference']} (median ms)")
    print(f"{'mode':13} {'memory':9} {'non-inference':>13} {'inference':>9} {'wall':>7}  stages")
    for r in p["runs"]:
        stages = ", ".join(f"{k} {v:.3f}" for k, v in r["stages"].items())
        print(f"{r['mode']:13} {r['memory']:9} {r['nonInferenceMs']:13.3f} {r['inferenceMs']:9.3f} {r['wallMs']:7.3f}  {stages}")
    conv = {r["memory"]: r["nonInferenceMs"] for r in p["runs"] if r["mode"] == "conventional"}
    zero = {r["memory"]: r["nonInferenceMs"] for r in p["runs"] if r["mode"] == "zerocopy"}
    for m in conv:
        print(f"zerocopy vs conventional, {m}: {100 * (1 - zero[m] / conv[m]):.0f}% less non-inference time")
