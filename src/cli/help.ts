// Usage texts of the `jetbench` commands.
export const HELP = {
  main: `jetbench: profile ML inference on the device where it runs

Usage: jetbench <command> [options]

Commands:
  bench     run a benchmark and write its run file
  build     build (and tune) a backend's artifact, e.g. a TVM module
  pipeline  measure whole frames stage by stage: conventional vs zerocopy (native addon)
  fidelity  how a precision's detections compare with fp32's on real frames (AP50, F1, ...)
  adaptive  switch precision per frame by scene: policies judged on the same real frames
  compare   compare run files (research-report table, noise-aware)
  report    print runs as Markdown, CSV or JSON
  models    list the built-in models, or generate one as ONNX
  info      describe a device and the backends it can run
  deploy    put the agent on an SSH device (a no-op when it is there)
  runs      list the runs on a device (live and persisted)
  fetch     copy a device's run into .jetbench/runs
  import    make a run file from trtexec's outputs (log + --exportTimes)
  rpc-server  keep an SSH device's TVM RPC server registered with a tracker (build --rpc)

Devices (--device): local, a name from the jetbench.devices setting (.vscode/settings.json), a Host
of ~/.ssh/config, or ssh://user@host:port. An SSH host key not in ~/.ssh/known_hosts is refused
unless --accept-new-host-key; an encrypted key's passphrase comes from $JETBENCH_SSH_PASSPHRASE or
a terminal prompt.

Run 'jetbench <command> --help' for a command's options.
Exit codes: 0 success, 1 failure, 2 usage error, 130 interrupted (the run is saved as cancelled).
`,
  bench: `Usage: jetbench bench [options]

  --device NAME        device to run on (default: local): a configured device, an ssh config
                       Host, or ssh://user@host:port; a dropped connection is re-established
                       and the run re-attached (the device measures on meanwhile)
  --accept-new-host-key  trust an SSH device's host key not yet in ~/.ssh/known_hosts (records it)
  --model M            built-in name (tiny, yolov5n, yolov5s, yolov5m, with -fp16/-int8) or
                       a path to an .onnx file on the device (default: yolov5s)
  --backend B          onnxruntime | tensorrt | tvm | pytorch (default: onnxruntime)
  --precision P        fp32 | fp16 | bf16 | int8 (default: fp32, or the built-in name's suffix;
                       bf16 with --backend pytorch);
                       with a built-in base name it picks that variant (yolov5s + fp16)
  --warmup N           minimum warm-up iterations (default: 20)
  --warmup-ms MS       minimum warm-up time in ms (default: 0)
  --iterations N       minimum measured iterations, >= 1 (default: 100)
  --duration-s S       minimum measured time in seconds (default: 0)
  --trials K           repeat warm-up and measurement K times (default: 1); compare judges
                       runs of 2+ trials by the spread between trials (use 5 before quoting
                       a difference)
  --threads N          intra-op CPU threads (default: the backend's default)
  --input-shape DIMS   concrete input shape for dynamic models, e.g. 1,3,640,640
  --opset 11|13        opset of generated built-in models (default: 13)
  --label TEXT         a note stored with the run
  --out FILE|DIR       run file to write, or a directory for DIR/<id>.json (default:
                       .jetbench/runs/<id>.json); checked before anything is measured
  --verify             also run ONNX Runtime on the same input and compare the outputs
  --fidelity N         after measuring, run the model and its fp32 reference (ONNX Runtime) on N
                       real frames and compare their detections: AP50, precision, recall, F1,
                       matched IoU, per scene complexity and box size (nanodet-g or YOLOv5 models;
                       onnxruntime backend for now)
  --fidelity-source S  the frames: vtest (OpenCV's pedestrian video, fetched once from the
                       opencv-doc package; the default), a video, an image or a directory of
                       images on the device
  --json               print the run (without samples) as JSON instead of the table
  --quiet              no progress on stderr
  --strict             exit 1 when the run's verdict is unreliable (see "Verdict" after the stats)
  --vs 'FLAGS'         also measure another configuration: these flags over the command's own
                       (repeatable: --vs '--precision fp16' --vs '--threads 1'); trials run
                       interleaved, A B A B ..., so drift hits every configuration alike (default
                       --trials 5), each configuration gets a run file of its trials, and the
                       runs are compared; --out must then be a directory

 TVM (--backend tvm):
  --target llvm|cuda   compile for the CPU (llvm, default) or the GPU (cuda)
  --arch sm_XX         CUDA architecture, e.g. sm_87 (Orin), sm_72 (Xavier)
  --tune-trials N      MetaSchedule tuning budget (default: 0 = untuned)
  --tuning-log DIR     tuning log to resume from and extend (default: in the cache)
  --python PATH        the Python that has tvm (default: $JETBENCH_PYTHON or python3)
  --profile            store a per-operator profile of one inference in the run

 PyTorch (--backend pytorch; an .onnx model through onnx2torch, or a TorchScript .pt / torch.export .pt2):
  --torch-device cuda|cpu   where it runs (default: CUDA where PyTorch sees a GPU, else the CPU)
  --torch-mode eager|cuda-graph|compile  a module call per sample, a CUDA graph captured once
                       and replayed, or torch.compile (TorchInductor; its compile time is the
                       run's build) (default: eager)
  --torch-span device|host  what a sample spans: the forward pass on inputs already on the device,
                       between CUDA events (default on CUDA), or copying inputs in, the forward
                       pass and copying outputs back, on the host clock (default on the CPU; what
                       ONNX Runtime's samples span)
  --tf32               allow TF32 for fp32 convolutions and matmuls (off: fp32 is fp32)
  --python PATH        the Python that has torch and onnx2torch (default: $JETBENCH_PYTHON or python3)

 TensorRT (--backend tensorrt):
  --runner native|trtexec  who runs the engine: the native addon (default, or the device's
                       tensorrtRunner setting), or the device's trtexec (any TensorRT version, no
                       native build; its --exportTimes become the samples, its profile the layers,
                       its warnings join the verdict; one trtexec process per trial)
  --trtexec PATH       trtexec on the device (implies --runner trtexec; default: $JETBENCH_TRTEXEC,
                       PATH, then /usr/src/tensorrt/bin/trtexec, where JetPack puts it)
  --trt-span gpu-compute|latency  trtexec runner: the engine's GPU compute on device buffers
                       (default; the native runner's span) or H2D + compute + D2H per query
  --cuda-graph         trtexec runner: replay the engine as a CUDA graph
  Engines are cached by model, precision, TensorRT version and GPU, shared by both runners.
  trtexec warms up by time: --warmup-ms (default 200 ms); --warmup counts do not apply.
`,
  build: `Usage: jetbench build --backend tvm|tensorrt --model M [--target llvm|cuda] [--arch sm_XX]
                      [--precision fp32|fp16|int8] [--tune-trials N] [--tuning-log DIR]
                      [--python PATH] [--runner native|trtexec] [--trtexec PATH]
                      [--device D --rpc device|tracker:HOST:PORT:KEY|HOST:PORT]

  Builds (and tunes) the backend's artifact for a model without measuring; later benchmarks with
  the same options reuse it. Tuning streams its progress and keeps its log, so a second build
  with more trials resumes from it. A TensorRT engine is built by the native addon or, with
  --runner trtexec, by trtexec --skipInference. Options as for bench.

 TVM over RPC (--backend tvm --device D --rpc ...): this machine compiles for D's CPU (LLVM
 -mtriple from D's architecture; an aarch64 module is linked by aarch64-linux-gnu-g++, Debian's
 g++-aarch64-linux-gnu) with its own TVM ($JETBENCH_PYTHON or python3), D measures:
  --rpc device         jetbench runs a TVM tracker here and D's RPC server (D's own TVM, started
                       by its agent on D's loopback, reached through the SSH connection: nothing is
                       opened to the network), and tunes with MetaSchedule's RPC runner on it
  --rpc tracker:HOST:PORT:KEY  D's server joins your tracker under KEY; candidates are measured on
                       every server under KEY (other boards: jetbench rpc-server), and the build
                       says how many each server measured
  --rpc HOST:PORT      a TVM RPC server you run, reachable from here (untuned builds only: tuning
                       asks a tracker for servers)
  The module then runs once on D's own server through RPC, its outputs are checked against ONNX Runtime here
  (not installed when they differ), and it is installed in D's artifact cache, where
  'jetbench bench --device D --backend tvm' (with the --tuning-log printed for a tuned one) runs it.
  Both machines need the same TVM version; tuning logs stay on this machine and resume.
`,
  'rpc-server': `Usage: jetbench rpc-server --device D --rpc tracker:HOST:PORT:KEY [--python PATH]
                           [--accept-new-host-key]

  Starts TVM's RPC server on the SSH device D (its own TVM, on its loopback) and registers it with
  the tracker under KEY, through the SSH connection (the device reaches the tracker, and this
  machine the server, by forwards: nothing is opened to the network). A 'jetbench build --rpc
  tracker:HOST:PORT:KEY' run from this machine then measures tuning candidates on D too. Runs until
  Ctrl-C, then says how many RPC sessions D served (one per tuning candidate measured there).
  --python PATH        D's Python with tvm (default: python3 on D)
`,
  compare: `Usage: jetbench compare RUN RUN... [--baseline RUN] [--format text|md]

  RUN is a run file, a directory of run files, or a run id in .jetbench/runs.
  The baseline (default: the first run) gets ratio 1.00x. Runs of 2+ trials (--trials, or
  bench --vs) are judged by the spread between their trials' medians: the speed-up with its 95%
  interval, "different" only when the whole interval is beyond 5%. With one trial a run, a
  difference of medians below 5%, or with overlapping 95% intervals, is reported as none; a larger
  one is marked "(1 trial)": beyond the noise inside each run, while the noise between runs is
  unknown.
`,
  report: `Usage: jetbench report RUN... [--format md|csv|json] [--out FILE]

  RUN is a run file, a directory of run files, or a run id in .jetbench/runs.
`,
  models: `Usage: jetbench models [--json]
       jetbench models generate NAME --out FILE [--opset 11|13]

  Lists the built-in models (parameters, GFLOPs) or writes one as an ONNX file.
`,
  info: `Usage: jetbench info [--device NAME] [--accept-new-host-key] [--json]

  Describes the device (OS, CPU, memory, GPU, Jetson model and L4T, versions) and which
  backends it can run, with the reason where one cannot.
`,
  pipeline: `Usage: jetbench pipeline --device D --model M --backend B --mode conventional|zerocopy --frames N
                         [--source synthetic|vtest|VIDEO|IMAGE|DIR] [--out FILE]

  Measures whole frames: preprocess -> inference -> postprocess (decode + NMS), each stage timed (CUDA events for GPU stages and copies, host clock for CPU stages), in the run file's
  samples.stagesMs; run.pipeline says which stage ran where. The detector is recognised from the
  model's shapes: YOLOv5 (letterbox, RGB / 255; one output 1 x N x (5 + classes)) or NanoDet, e.g.
  nanodet-g (stretched to the input, BGR with its mean and std; its six heads packed into one
  output by three Concat nodes, cached). Needs the native addon
  (node agent.js build-native); zerocopy and memory modes other than pageable need a CUDA GPU.

  --mode M             conventional (CPU preprocess, copies, CPU NMS; default) | zerocopy
                       (GPU preprocess, GPU NMS, only detections come back)
  --memory M           pageable (default) | pinned | mapped (zero-copy host memory) | managed
  --frames N           measured frames (default: 50)
  --warmup N           warm-up frames, not measured (default: 5)
  --source S           synthetic (default: 1080p scenes), vtest (OpenCV's pedestrian video,
                       fetched once), a directory of .ppm/.png/.jpg images, an image file, or a
                       video file (.avi/.mp4/.mkv/...: its first
                       --frame-count frames, decoded by the device's ffmpeg)
  --frame-count N      distinct frames loaded and cycled through (default: 8)
  --objects N          objects per synthetic scene (default: 12)
  --conf X --iou X     score and NMS thresholds (default: the detector's: YOLOv5 0.25, 0.45;
                       NanoDet 0.35, 0.5)
  --max-det N          detections kept per frame (default: YOLOv5 300, NanoDet 100)
  --device D           local (default) or an SSH device; DIR is then a directory on the device,
                       whose agent builds the addon at deploy (CMake and a C++ compiler there)
  --backend B          onnxruntime (default: on the CPU, host buffers) | pytorch (on the GPU:
                       the model traced to TorchScript and run by libtorch in the pipeline's device
                       buffers on its stream, no host round trip; --precision fp32|fp16; needs the
                       addon built where a CUDA build of torch is importable)
  --python PATH --tf32 pytorch: the Python whose torch traces the model; TF32 for fp32
  --model, --precision, --threads, --label, --out, --json, --quiet,
  --accept-new-host-key: as for bench
`,
  deploy: `Usage: jetbench deploy --device NAME [--accept-new-host-key] [--json] [--quiet]

  Uploads this jetbench's agent (agent.js, the Python helpers, onnxruntime-node for the device's
  architecture only) over SFTP to ~/.jetbench/agent/<content hash>/ on the device, atomically; does
  nothing when that hash is there. Uses the device's Node >= 18 (nodePath, PATH, ~/.vscode-server),
  else uploads Node from the npm package node-linux-<arch> (cached locally). Then builds the
  native addon (pipeline, TensorRT) on the device once per source version, where CMake and a C++
  compiler are found (device setting nativeBuild: auto | never). bench, build, info,
  runs and fetch deploy on their own when needed.
`,
  runs: `Usage: jetbench runs --device NAME [--accept-new-host-key] [--json]

  Lists the runs the device's agent knows: live (queued, running) and persisted in its
  ~/.jetbench/runs (ok, failed, cancelled), newest first, with their sample counts.
`,
  fetch: `Usage: jetbench fetch --device NAME RUN_ID [--out FILE] [--wait] [--accept-new-host-key] [--json]

  Copies a run from the device into .jetbench/runs/<RUN_ID>.json (or --out FILE, or --out DIR for
  DIR/<RUN_ID>.json). A run still going is
  an error unless --wait, which follows it to its end first.
`,
  import: `Usage: jetbench import trtexec LOG --times TIMES.json [--profile PROFILE.json]
                       [--span gpu-compute|latency] [--precision fp32|fp16|int8] [--label TEXT]
                       [--out FILE|DIR] [--json]

  Makes a run file (.jetbench/runs/<id>.json) from a trtexec run's outputs, so it can be reported,
  compared and opened like a measured run. LOG is what trtexec printed (any TensorRT 8-11:
  version, GPU, flags, warnings, its summary); TIMES is its --exportTimes=FILE (one entry per query:
  the samples). --profile adds --exportProfile=FILE's per-layer times (else the log's --dumpProfile
  table, if any).
  --span gpu-compute (default): "GPU Compute Time", CUDA events around each enqueue, no copies: the
    span of jetbench's own TensorRT runner. --span latency: "Latency", H2D + compute + D2H (compute
    alone when trtexec ran with --noDataTransfers).
  Prints trtexec's own median/P99/mean beside those recomputed from the samples. Device fields
  trtexec does not print (host, CPU, OS) read "unknown"; trtexec's warnings join the verdict.
  Exit 1 when the log does not end in "&&&& PASSED" (the run is still written, marked failed).
`,
  fidelity: `Usage: jetbench fidelity [--model nanodet-g] [--precision int8] [--frames N] [--source S] [bench options]

  A benchmark whose point is its fidelity check (bench --fidelity): the model in its precision and
  the fp32 reference on ONNX Runtime run on the same N real frames (default 50; --source vtest, the
  default, a video, an image or a directory of images on the device), their detections compared:
  AP50, precision, recall, F1 and matched IoU, overall, per scene complexity and per box size.
  Without --model: nanodet-g in int8. The latency is measured briefly (20 iterations after 3
  warm-up, unless --iterations/--warmup say otherwise); the run file holds both. Every bench option
  applies (--backend onnxruntime|pytorch|tvm, --vs '--precision fp16', --out ...).
`,
  adaptive: `Usage: jetbench adaptive [--model nanodet-g] [--high fp32] [--low int8] [--backend B]
                         [--sensitive MODEL|none] [--frames N] [--source vtest|VIDEO|IMAGE|DIR] [--device D] [--out FILE] [--json]

  The adaptive-precision experiment: per frame, a policy runs the low precision (--low, default
  int8) or the high one (--high, default fp32), chosen from the previous frame's detections (how
  many, how many small, the share of uncertain scores) or the change between frames, with
  hysteresis (enter/leave thresholds, a minimum dwell). First the two precisions are measured as
  ordinary runs, interleaved (their run files: latency, and energy per inference where the device
  has power telemetry); then both and the fp32 reference (ONNX Runtime) run on the same --frames N frames
  (default 50 of vtest); then every policy is judged on those frames: static high, static low,
  static low with its sensitive layers kept high (a third configuration, measured and run alike:
  nanodet-g-int8-mixed for int8, whose stem and head convolutions stay in float), the oracle (the
  best per-frame choice, knowing the outcome: the upper bound), random switching at the
  best policy's low share (mean of 20 seeds: what a policy must beat), and threshold policies over a
  sweep (each signal's 25th/50th/75th percentile, leave at 80%, dwell 1 or 5). The best policy is the
  cheapest within 1 AP50 point of static high; it earns its place with >= 10% less energy (latency
  where no energy was measured), more AP50 than random, and less cost than static low with
  sensitive layers high where that stays within the AP50 point. Then the best policy runs live: both
  precisions loaded on the device, the policy choosing per frame from what its choice detected; its
  latency, accuracy and choices are printed beside the replay's. Writes the whole result, per-frame data
  included, to .jetbench/adaptive/<time>-<model>-<high>-<low>.json (or --out FILE).
  --sensitive MODEL|none   the sensitive-layers variant (default: the built one for --low, if any;
                           not with pytorch or tvm, which convert the fp32 model themselves)
  --rounds N (default 3)   trials of each precision, interleaved (high low high low ...); the joined
                           runs are stored, and each trial's energy per inference is printed
  --iterations N, --warmup N, --threads N   for the two runs; --torch-device cuda|cpu with pytorch
`,
} as const;
