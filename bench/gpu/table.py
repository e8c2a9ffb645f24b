"""Issue 15's acceptance table from one bench/gpu/all.sh run, side by side in markdown:
   python3 bench/gpu/table.py OUT     (OUT/kernels/results.jsonl and OUT/runs/*.json)
Every figure is read from what the run wrote (the kernels' JSON lines, the run files); a row whose
run is missing or failed says so instead of a number."""
import glob
import json
import os
import sys

out = sys.argv[1]


def load_run(name):
    try:
        with open(os.path.join(out, "runs", f"{name}.json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def ms(v):
    return "-" if v is None else f"{v:.3f}"


def torch_cell(run):
    if run is None:
        return "no run file"
    if run.get("status") != "ok" or not run.get("stats"):
        return f"{run.get('status')}: {(run.get('error') or '')[:80]}"
    s = run["stats"]
    v = run.get("verification")
    verify = "not verified" if not v else ("verified" if v.get("passed") else "VERIFY FAILED")
    return f"{ms(s['medianMs'])} / {ms(s['p99Ms'])} ({verify})"


print("## yolov5s through the agent: PyTorch on the GPU (`jetbench bench --backend pytorch`)\n")
print("Median / P99 ms of one forward pass between CUDA events on inputs already on the GPU; each run")
print("verified against ONNX Runtime on the CPU.\n")
print("| precision | eager | CUDA graph | graph vs eager (medians) | torch.compile (build) |")
print("| --- | --- | --- | --- | --- |")
for prec in ("fp32", "fp16", "bf16"):
    eager, graph = load_run(f"torch-{prec}-eager"), load_run(f"torch-{prec}-graph")
    ratio = "-"
    if eager and graph and eager.get("stats") and graph.get("stats"):
        ratio = f"{eager['stats']['medianMs'] / graph['stats']['medianMs']:.2f}x"
    compiled = "not run"
    if prec == "fp32":
        c = load_run("torch-fp32-compile")
        compiled = torch_cell(c)
        if c and c.get("artifact"):
            compiled += f", compiled in {c['artifact']['buildMs'] / 1000:.1f} s"
    print(f"| {prec} | {torch_cell(eager)} | {torch_cell(graph)} | {ratio} | {compiled} |")

print("\n## `jetbench pipeline`, PyTorch fp32 inference in the pipeline's device buffers\n")
print("| mode | end to end, median ms | non-inference, median ms | inference, median ms | detections per frame (median) |")
print("| --- | --- | --- | --- | --- |")
pipes = {}
for mode in ("conventional", "zerocopy"):
    run = load_run(f"pipeline-{mode}")
    if run is None or not run.get("stats") or not run.get("pipeline"):
        print(f"| {mode} | {'no run file' if run is None else run.get('status')} | | | |")
        continue
    p = run["pipeline"]
    non = (p.get("nonInferenceStats") or {}).get("medianMs")
    inf = (p.get("stageStats", {}).get("inference") or {}).get("medianMs")
    dets = sorted(p.get("detections") or [0])
    pipes[mode] = (run["stats"]["medianMs"], non)
    print(f"| {mode} | {ms(run['stats']['medianMs'])} | {ms(non)} | {ms(inf)} | {dets[len(dets) // 2]} |")
if len(pipes) == 2 and pipes["conventional"][1] and pipes["zerocopy"][1]:
    c, z = pipes["conventional"], pipes["zerocopy"]
    print(f"\nzero-copy: {100 * (1 - z[1] / c[1]):.0f}% less non-inference time, end to end {c[0] / z[0]:.2f}x faster.")

rows = []
results = os.path.join(out, "kernels", "results.jsonl")
if os.path.exists(results):
    rows = [json.loads(line) for line in open(results) if line.startswith("{")]
by = {}
for r in rows:
    by.setdefault(r["bench"], []).append(r)

print("\n## Decode + NMS, ours vs torchvision (filter + batched_nms), median per call\n")
print("| input | candidates (kept) | ours | torchvision | ratio | same boxes |")
print("| --- | --- | --- | --- | --- | --- |")
for ours, anchor in zip(by.get("nms", []), by.get("nms-anchors", [])):
    tv = anchor["torchvision_batched_nms_ms"]
    same = ours["sameAsCpuReference"] and anchor["sameBoxesAsTorchvision"]
    name = os.path.basename(ours.get("input", "")) or "-"
    print(f"| {name} | {ours['candidates']} ({ours['kept']}) | {ours['medianMs'] * 1000:.1f} us | {tv * 1000:.1f} us | {tv / ours['medianMs']:.1f}x | "
          f"{'yes' if same else 'NO'} |")
if not by.get("nms"):
    print("| (no NMS results: see kernels/run.log) | | | | | |")

print("\n## Letterbox 1920x1080 -> 640, against the memory floor\n")
print("| type | per launch | back to back | floor | per launch / floor | back to back / floor |")
print("| --- | --- | --- | --- | --- | --- |")
for ours in by.get("preprocess", []):
    for t in ("float32", "float16"):
        o = ours[t]
        print(f"| {t} | {o['medianMs'] * 1000:.1f} us | {o['backToBackMs'] * 1000:.1f} us | {o['floorMs'] * 1000:.1f} us | "
              f"{o['medianMs'] / o['floorMs']:.2f}x | {o['backToBackMs'] / o['floorMs']:.2f}x |")
if not by.get("preprocess"):
    print("| (no letterbox results: see kernels/run.log) | | | | | |")
bad = [os.path.basename(f) for f in glob.glob(os.path.join(out, "runs", "*.json")) if (load_run(os.path.basename(f)[:-5]) or {}).get("status") != "ok"]
if bad:
    print(f"\nruns not ok: {', '.join(sorted(bad))}")
