#!/usr/bin/env python3
"""jetbench's TVM helper: the agent drives the device's own `tvm` package through this script.

Commands (one JSON argument each; events are JSON lines on stdout, diagnostics on stderr):
  probe                 -> {"event": "done", "tvm": "0.27.0", "generation": "relax"|"relay", ...}
  build  SPEC           -> progress events, then {"event": "done", ...}; the module at SPEC.out
  serve  SPEC           -> {"event": "ready", "tvm": ..., "python": ..., "pythonVersion": ...}
                           (what serves the module), then one answer line per stdin command:
                           "i"            one timed inference -> "<ms>"
                           "o <dir>"      writes each output as raw bytes -> JSON list of files
                           "p"            one run with per-operator timing -> JSON profile
Errors: {"event": "error", "kind": ..., "message": ...} and exit code 1.
Works with TVM >= 0.20 (Relax; tuning with MetaSchedule) and, for build and run, older Relay.
"""
import importlib.util
import os
import sys
import tempfile
import time

from jetbench_helper import HelperError, emit, run, serve_loop


# Trial budgets from which MetaSchedule's evolutionary search (with the XGBoost cost model) is used.
EVOLUTIONARY_MIN_TRIALS = 64
# Oldest TVM the helper's API calls exist in (Relay's graph_executor arrived in 0.8).
MIN_TVM = (0, 8)
# Seconds MetaSchedule's builder may spend on one candidate.
BUILD_TIMEOUT_S = 300


def import_tvm():
    try:
        import tvm  # noqa: F401
    except ImportError as e:
        raise HelperError(
            "no-tvm",
            f"Python {sys.executable} cannot import tvm ({e}): install TVM in that Python "
            "(e.g. pip install apache-tvm) or point jetbench at a Python that has it (--python)",
        )
    if version_tuple(tvm.__version__) < MIN_TVM:
        raise HelperError(
            "too-old",
            f"TVM {tvm.__version__} in {sys.executable} is too old: jetbench needs TVM >= {MIN_TVM[0]}.{MIN_TVM[1]} "
            "(tvm.contrib.graph_executor); upgrade it (pip install -U apache-tvm) or build a newer TVM",
        )
    return tvm


def version_tuple(text):
    parts = []
    for p in text.split(".")[:2]:
        digits = "".join(ch for ch in p if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


def generation(tvm):
    """Relax (ONNX frontend, tvm.compile, MetaSchedule) from 0.20 on; Relay before."""
    if version_tuple(tvm.__version__) >= (0, 20):
        return "relax"
    return "relay"


def probe(_spec):
    tvm = import_tvm()
    cuda = False
    try:
        cuda = bool(tvm.cuda(0).exist)
    except Exception:  # noqa: BLE001 - a TVM without CUDA raises here
        cuda = False
    emit({
        "event": "done",
        "tvm": tvm.__version__,
        "generation": generation(tvm),
        "python": sys.executable,
        "pythonVersion": sys.version.split()[0],
        "cuda": cuda,
    })


def make_target(tvm, spec):
    if spec["target"] == "cuda":
        try:
            if not tvm.cuda(0).exist:
                raise HelperError("no-cuda", "target cuda was asked for but TVM sees no CUDA device here: use --target llvm")
        except HelperError:
            raise
        except Exception as e:  # noqa: BLE001
            raise HelperError("no-cuda", f"target cuda was asked for but this TVM has no CUDA support ({e}): use --target llvm, or a TVM built with CUDA")
        arch = spec.get("arch")
        return new_target(tvm, {"kind": "cuda", **({"arch": arch} if arch else {})}, host={"kind": "llvm"})
    cross = spec.get("cross")
    if cross:
        # Another machine's CPU (the RPC device): LLVM emits its code, its core count for MetaSchedule.
        return new_target(tvm, {"kind": "llvm", "mtriple": cross["triple"], "num-cores": int(cross["cores"])})
    # MetaSchedule needs the core count in an llvm target.
    return new_target(tvm, {"kind": "llvm", "num-cores": os.cpu_count() or 1})


def host_triple():
    import platform
    machine = platform.machine().lower()
    return {"amd64": "x86_64", "arm64": "aarch64"}.get(machine, machine) + "-linux-gnu"


def export_compiler(spec):
    """The linker for the module: this machine's for its own target; for another machine's
    triple, that triple's g++ (Debian's g++-aarch64-linux-gnu gives aarch64-linux-gnu-g++)."""
    cross = spec.get("cross")
    if not cross or cross["triple"] == host_triple():
        return None
    import shutil
    from tvm.support import cc
    gxx = f"{cross['triple']}-g++"
    if shutil.which(gxx) is None:
        package = "g++-" + cross["triple"].replace("_", "-")
        raise HelperError(
            "no-cross-compiler",
            f"linking a module for {cross['triple']} needs {gxx} on this machine, which is not on PATH: "
            f"install it (Debian/Ubuntu: sudo apt install {package})",
        )
    return cc.cross_compiler(gxx)


def rpc_endpoint(rpc):
    if rpc["kind"] == "tracker":
        return f"tracker {rpc['host']}:{rpc['port']} key {rpc['key']}"
    return f"server {rpc['host']}:{rpc['port']}"


# Seconds one RPC session may take: under emulation (or on a small board) linking a candidate and
# running it takes seconds.
RPC_SESSION_TIMEOUT_S = 300


def tracker_request(host, port, key, want=None, tries=5):
    """A session from a TVM tracker, and which server it is (`host:port` as the tracker hands it
    out). TrackerSession.request's exchange, done here because it does not say which server it
    chose. `want`: only that server; others handed out meanwhile are left unconnected (each
    registers again with a new key after TVM's unmatch timeout)."""
    from tvm.rpc import base
    from tvm.rpc import client as tvm_client
    tracker = tvm_client.connect_tracker(host, int(port))
    try:
        for _ in range(tries):
            base.sendjson(tracker._sock, [base.TrackerCode.REQUEST, key, "", 1])
            value = base.recvjson(tracker._sock)
            if value[0] != base.TrackerCode.SUCCESS:
                raise RuntimeError(f"the tracker refused the request: {value}")
            url, server_port, matchkey = value[1]
            where = f"{url}:{server_port}"
            if want is None or where == want:
                return tvm_client.connect(url, server_port, matchkey, RPC_SESSION_TIMEOUT_S), where
        raise RuntimeError(f"the tracker did not hand out {want} in {tries} requests under key '{key}'")
    finally:
        tracker.close()


def record_session(rpc_config):
    """MetaSchedule's RPC runner's session factory (runs in its worker processes): a session from
    the tracker, its server appended to $JETBENCH_RPC_SESSIONS, one line per candidate measured."""
    session, where = tracker_request(rpc_config.tracker_host, rpc_config.tracker_port, rpc_config.tracker_key)
    log = os.environ.get("JETBENCH_RPC_SESSIONS")
    if log:
        with open(log, "a", encoding="utf-8") as f:
            f.write(where + "\n")
    return session


def rpc_session(rpc, want=None):
    """A session on the RPC device, and where it is: through the tracker (the server `want`, else
    any free one under the key), or direct."""
    from tvm import rpc as tvm_rpc
    try:
        if rpc["kind"] == "tracker":
            return tracker_request(rpc["host"], rpc["port"], rpc["key"], want=want, tries=tracker_servers(rpc) + 3 if want else 5)
        return tvm_rpc.connect(rpc["host"], int(rpc["port"]), session_timeout=RPC_SESSION_TIMEOUT_S), f"{rpc['host']}:{rpc['port']}"
    except HelperError:
        raise
    except Exception as e:  # noqa: BLE001
        raise HelperError("rpc-unreachable", f"cannot reach TVM's RPC {rpc_endpoint(rpc)}: {str(e).strip().splitlines()[-1] if str(e).strip() else type(e).__name__}")


def tracker_servers(rpc):
    """How many servers the tracker holds under the key (free or busy): MetaSchedule's workers."""
    from tvm import rpc as tvm_rpc
    try:
        summary = tvm_rpc.connect_tracker(rpc["host"], int(rpc["port"])).summary()
    except Exception as e:  # noqa: BLE001
        raise HelperError("rpc-unreachable", f"cannot reach TVM's RPC {rpc_endpoint(rpc)}: {e}")
    n = sum(1 for info in summary.get("server_info", []) if info.get("key") == "server:" + rpc["key"])
    if n < 1:
        raise HelperError("rpc-no-server", f"no TVM RPC server is registered under key '{rpc['key']}' at tracker {rpc['host']}:{rpc['port']}: start one on the device (jetbench rpc-server --device D --rpc tracker:HOST:PORT:{rpc['key']})")
    return n


def rpc_check(tvm, spec, module_path):
    """Runs the built module on the RPC device: its outputs on the agent's inputs (written as files
    for the agent to compare against ONNX Runtime) and its latency there (TVM's time_evaluator)."""
    import numpy as np
    from tvm import relax
    check = spec["check"]
    rpc = spec["rpc"]
    device = spec.get("rpcDevice")
    want = f"{device['host']}:{device['port']}" if device and rpc["kind"] == "tracker" else None
    emit({"event": "progress", "message": f"running the module on the RPC device ({rpc_endpoint(rpc)}{f', server {want}' if want else ''})"})
    session, where = rpc_session(rpc, want)
    session.upload(module_path)
    lib = session.load_module(os.path.basename(module_path))
    dev = session.cpu(0)
    vm = relax.VirtualMachine(lib, dev)
    make = getattr(tvm.runtime, "tensor", None) or tvm.nd.array
    args = [make(np.fromfile(i["file"], dtype=i["dtype"]).reshape(i["shape"]), dev) for i in check["inputs"]]
    out = vm["main"](*args)
    items = list(out) if isinstance(out, (list, tuple)) or type(out).__name__ in ("Array", "ADT", "Tuple") else [out]
    files = []
    for k, arr in enumerate(items):
        path = os.path.join(check["dir"], f"output{k}.bin")
        data = arr.numpy()
        data.tofile(path)
        files.append({"file": path, "dtype": str(data.dtype), "shape": list(data.shape)})
    repeats = int(check.get("repeats", 5))
    timer = vm.time_evaluator("main", dev, number=1, repeat=repeats)
    result = timer(*args)
    return {"outputs": files, "medianMs": float(result.median) * 1000, "repeats": repeats, "endpoint": rpc_endpoint(rpc), "server": where}


def new_target(tvm, config, host=None):
    """TVM >= 0.22 takes targets as dicts; older ones as strings ("llvm -num-cores 4")."""
    try:
        return tvm.target.Target(config, host=host) if host else tvm.target.Target(config)
    except Exception:  # noqa: BLE001 - older TVM: the CLI string form
        def text(c):
            return " ".join([c["kind"]] + [f"-{k}={v}" for k, v in c.items() if k != "kind"])
        return tvm.target.Target(text(config), host=text(host)) if host else tvm.target.Target(text(config))


def load_onnx(path):
    import onnx
    try:
        return onnx.load(path)
    except Exception as e:  # noqa: BLE001
        raise HelperError("bad-model", f"cannot read ONNX model {path}: {e}")


def unsupported_op(e, model):
    """Names the ONNX op that TVM's importer rejected, when the message says which."""
    text = str(e)
    ops = sorted({n.op_type for n in model.graph.node})
    for op in ops:
        if op in text and ("not supported" in text.lower() or "unsupported" in text.lower() or "no converter" in text.lower()):
            return HelperError("unsupported-op", f"TVM cannot import ONNX op '{op}': {text.strip().splitlines()[-1]}")
    return HelperError("import-failed", f"TVM could not import the ONNX model: {text.strip().splitlines()[-1] if text.strip() else type(e).__name__}")


def build(spec):
    tvm = import_tvm()
    gen = generation(tvm)
    model = load_onnx(spec["model"])
    shape_dict = {i["name"]: i["shape"] for i in spec["inputs"]}
    dtype_dict = {i["name"]: i["dtype"] for i in spec["inputs"]}
    target = make_target(tvm, spec)
    trials = int(spec.get("trials") or 0)
    t0 = time.perf_counter()
    emit({"event": "progress", "message": f"importing ONNX into TVM {tvm.__version__} ({gen})"})
    if gen == "relax":
        from tvm import relax
        from tvm.relax.frontend.onnx import from_onnx
        try:
            mod = from_onnx(model, shape_dict=shape_dict, dtype_dict=dtype_dict, keep_params_in_input=False)
        except Exception as e:  # noqa: BLE001
            raise unsupported_op(e, model)
        import_ms = (time.perf_counter() - t0) * 1000
        mod = relax.transform.DecomposeOpsForInference()(mod)
        if spec["precision"] == "fp16":
            # Computes in float16 and keeps the model's float32 interface.
            mod = relax.transform.ToMixedPrecision(out_dtype="float16")(mod)
        with target:
            # Legalize to TIR and fuse: the functions MetaSchedule tunes and tvm.compile builds.
            mod = relax.get_pipeline("zero")(mod)
        tune_ms, measured, per_server = 0.0, 0, {}
        if trials > 0:
            tune_ms, measured, per_server = tune_relax(tvm, mod, target, spec["workDir"], trials, spec.get("rpc"))
        if spec.get("workDir") and os.path.isdir(spec["workDir"]):
            with target:
                mod = relax.transform.MetaScheduleApplyDatabase(spec["workDir"])(mod)
        emit({"event": "progress", "message": f"compiling for {target.kind.name}"})
        t1 = time.perf_counter()
        ex = tvm.compile(mod, target=target)
        fcompile = export_compiler(spec)
        if fcompile is None:
            ex.export_library(spec["out"])
        else:
            ex.export_library(spec["out"], fcompile=fcompile)
        compile_ms = (time.perf_counter() - t1) * 1000
        checked = rpc_check(tvm, spec, spec["out"]) if spec.get("rpc") else None
    else:
        if trials > 0:
            raise HelperError("unsupported", f"tuning with TVM {tvm.__version__} (Relay) is not supported by jetbench: use TVM >= 0.20, or build untuned")
        if spec.get("rpc") or spec.get("cross"):
            raise HelperError("unsupported", f"building for an RPC device needs TVM >= 0.20 (Relax) on this machine; it has {tvm.__version__}")
        checked, measured, per_server = None, 0, {}
        from tvm import relay
        try:
            mod, params = relay.frontend.from_onnx(model, shape=shape_dict, dtype=dtype_dict, freeze_params=True)
        except Exception as e:  # noqa: BLE001
            raise unsupported_op(e, model)
        import_ms = (time.perf_counter() - t0) * 1000
        if spec["precision"] == "fp16":
            mod = relay.transform.ToMixedPrecision("float16")(mod)
        tune_ms = 0.0
        t1 = time.perf_counter()
        with tvm.transform.PassContext(opt_level=3):
            lib = relay.build(mod, target=target, params=params)
        compile_ms = (time.perf_counter() - t1) * 1000
        lib.export_library(spec["out"])
    emit({
        "event": "done",
        "tvm": tvm.__version__,
        "generation": gen,
        "target": str(target),
        "importMs": import_ms,
        "tuneMs": tune_ms,
        "compileMs": compile_ms,
        "candidatesMeasured": measured,
        **({"candidatesPerServer": per_server} if per_server else {}),
        "bytes": os.path.getsize(spec["out"]),
        **({"rpc": checked} if checked else {}),
    })


def tune_relax(tvm, mod, target, work_dir, trials, rpc=None):
    """MetaSchedule tuning with a global trial budget. The JSON database in work_dir is the tuning
    log: records already there are kept, so a second call resumes instead of starting over. With a
    tracker, MetaSchedule's RPC runner measures the candidates on its servers under the key (one
    worker per server); the candidates are object files in a tar the device links itself."""
    from tvm.s_tir import meta_schedule as ms
    from tvm.s_tir.meta_schedule.relax_integration import tune_relax as ms_tune_relax

    small = trials < EVOLUTIONARY_MIN_TRIALS
    needed = ["psutil", "cloudpickle"] + ([] if small else ["xgboost"])
    missing = [m for m in needed if importlib.util.find_spec(m) is None]
    if missing:
        raise HelperError(
            "missing-dependency",
            f"tuning with MetaSchedule needs the Python packages {', '.join(missing)} in {sys.executable}: "
            f"pip install {' '.join(missing)}" + ("" if small else f" (budgets of {EVOLUTIONARY_MIN_TRIALS}+ trials use the XGBoost cost model)"),
        )
    # The RPC runner first: a missing tracker or server is said before anything is built.
    sessions_file = None
    if rpc:
        # Which server measured each candidate: the runner's workers append it to this file. Set
        # before the runner exists: its worker processes start with it and take this environment.
        sessions_fd, sessions_file = tempfile.mkstemp(prefix="jetbench-rpc-sessions-", suffix=".txt")
        os.close(sessions_fd)
        os.environ["JETBENCH_RPC_SESSIONS"] = sessions_file
    try:
        runner = rpc_runner(ms, rpc) if rpc else None
    except BaseException:
        if sessions_file:
            os.remove(sessions_file)
        raise
    os.makedirs(work_dir, exist_ok=True)
    emit({"event": "progress", "message": f"tuning with MetaSchedule, {trials} trials", "trialsDone": 0, "trialsTotal": trials})
    # measured: candidates that built and went to the runner (one RPC session each over RPC).
    done = {"n": 0, "best": None, "measured": 0}

    try:
        from tvm.ir.utils import derived_object  # TVM >= 0.22
    except ImportError:
        from tvm.meta_schedule.utils import derived_object

    @derived_object
    class Progress(ms.measure_callback.PyMeasureCallback):
        def apply(self, task_scheduler, task_id, measure_candidates, builder_results, runner_results):
            for b, r in zip(builder_results, runner_results):
                done["n"] += 1
                if b.error_msg is None:
                    done["measured"] += 1
                if r.run_secs:
                    ms_value = sum(float(s) for s in r.run_secs) / len(r.run_secs) * 1000
                    if done["best"] is None or ms_value < done["best"]:
                        done["best"] = ms_value
            emit({
                "event": "progress",
                "message": f"tuning: {done['n']}/{trials} trials" + (f", best kernel {done['best']:.3f} ms" if done["best"] is not None else ""),
                "trialsDone": done["n"],
                "trialsTotal": trials,
                "bestKernelMs": done["best"],
            })

    import re
    import threading

    # Measured results reach callbacks only when the scheduler joins a task again (after a whole
    # round of tasks), so progress also follows candidates as the scheduler's log says they go
    # to the builder.
    stop = threading.Event()

    def follow_log():
        log = os.path.join(work_dir, "logs", "tvm.s_tir.meta_schedule.logging.task_scheduler.log")
        reported = 0
        while not stop.wait(1.0):
            try:
                with open(log, encoding="utf-8", errors="replace") as f:
                    text = f.read()
            except OSError:
                continue
            sent = sum(int(n) for n in re.findall(r"Sending (\d+) sample\(s\) to builder", text))
            if sent > reported:
                reported = sent
                tasks = re.findall(r'picks Task #\d+: "([^"]+)"', text)
                emit({
                    "event": "progress",
                    "message": f"tuning: {min(sent, trials)}/{trials} candidates sent to the builder" + (f" ({tasks[-1]})" if tasks else ""),
                    "trialsSent": sent,
                    "trialsTotal": trials,
                })

    follower = threading.Thread(target=follow_log, daemon=True)
    follower.start()
    t0 = time.perf_counter()
    callbacks = [Progress(), *ms.measure_callback.MeasureCallback.create("default")]
    # Evolutionary search pays off on real budgets; below that its initial population alone takes
    # minutes per task on a small CPU, so small budgets sample traces at random instead.
    try:
        tune_with_ms(ms, ms_tune_relax, mod, target, work_dir, trials, small, callbacks, runner)
    except BaseException:
        if sessions_file:
            os.remove(sessions_file)
        raise
    stop.set()
    return (time.perf_counter() - t0) * 1000, done["measured"], sessions_per_server(sessions_file)


def tune_with_ms(ms, ms_tune_relax, mod, target, work_dir, trials, small, callbacks, runner):
    """MetaSchedule's tune_relax with jetbench's choices (see the comments)."""
    ms_tune_relax(
        mod=mod,
        params={},
        target=target,
        work_dir=work_dir,
        max_trials_global=trials,
        # Small batches: progress (and a cancel) lands after every few candidates, not every 16.
        num_trials_per_iter=min(4 if small else 16, max(1, trials)),
        measure_callbacks=callbacks,
        # Building one candidate takes 10-30 s on a small CPU with TVM 0.27 (the default 30 s
        # timeout failed every candidate here); a slow build is not a bad schedule.
        builder=ms.builder.LocalBuilder(timeout_sec=BUILD_TIMEOUT_S),
        **({"runner": runner} if runner else {}),
        # The convolutions carry nearly all the FLOPs; the fused Detect-decode task fails to build
        # under MetaSchedule's schedules (TVM 0.27) and would burn the budget.
        op_names=["conv2d"],
        strategy="replay-trace" if small else "evolutionary",
        cost_model="random" if small else "xgb",
    )


def sessions_per_server(sessions_file):
    """{server: sessions} from the runner's file (then removed); {} without one."""
    per_server = {}
    if not sessions_file:
        return per_server
    with open(sessions_file, encoding="utf-8") as f:
        for line in f.read().split():
            per_server[line] = per_server.get(line, 0) + 1
    os.remove(sessions_file)
    return per_server


def rpc_runner(ms, rpc):
    if rpc["kind"] != "tracker":
        raise HelperError(
            "rpc-needs-tracker",
            f"tuning over RPC goes through a tracker (MetaSchedule's RPC runner asks one for servers), not a single server ({rpc_endpoint(rpc)}): "
            "use --rpc tracker:HOST:PORT:KEY, or --rpc device to let jetbench run one for the --device, or build without --tune-trials",
        )
    workers = tracker_servers(rpc)
    emit({"event": "progress", "message": f"measuring candidates on {workers} RPC server(s) under key '{rpc['key']}'"})
    config = ms.runner.RPCConfig(tracker_host=rpc["host"], tracker_port=int(rpc["port"]), tracker_key=rpc["key"], session_timeout_sec=RPC_SESSION_TIMEOUT_S)
    return ms.runner.RPCRunner(config, max_workers=workers, f_create_session=record_session)


class Session:
    def __init__(self, spec):
        import numpy as np
        tvm = import_tvm()
        self.tvm = tvm
        self.np = np
        self.dev = tvm.cuda(0) if spec["target"] == "cuda" else tvm.cpu(0)
        lib = tvm.runtime.load_module(spec["module"])
        self.gen = generation(tvm)
        arrays = []
        self.input_names = [i["name"] for i in spec["inputs"]]
        for i in spec["inputs"]:
            data = np.fromfile(i["file"], dtype=i["dtype"]).reshape(i["shape"])
            arrays.append(self._tensor(data))
        self.inputs = arrays
        if self.gen == "relax":
            from tvm import relax
            self.vm = relax.VirtualMachine(lib, self.dev)
            self.fn = self.vm["main"]
        else:
            from tvm.contrib import graph_executor
            self.gm = graph_executor.GraphModule(lib["default"](self.dev))
            for i, arr in zip(spec["inputs"], arrays):
                self.gm.set_input(i["name"], arr)
        self.last = None

    def _tensor(self, data):
        rt = self.tvm.runtime
        make = getattr(rt, "tensor", None) or self.tvm.nd.array
        return make(data, self.dev)

    def infer_ms(self):
        t0 = time.perf_counter()
        if self.gen == "relax":
            self.last = self.fn(*self.inputs)
        else:
            self.gm.run()
        self.dev.sync()
        return (time.perf_counter() - t0) * 1000

    def outputs(self):
        if self.gen == "relax":
            out = self.last if self.last is not None else self.fn(*self.inputs)
            items = list(out) if isinstance(out, (list, tuple)) or type(out).__name__ in ("Array", "ADT", "Tuple") else [out]
        else:
            items = [self.gm.get_output(i) for i in range(self.gm.get_num_outputs())]
        return [x.numpy() for x in items]

    def set_inputs(self, in_dir):
        """Real frames for the fidelity check: each input from in_dir/input<k>.bin (float32, cast
        to the module's input type), then one run, whose outputs write_outputs reads."""
        np = self.np
        for k, old in enumerate(self.inputs):
            path = os.path.join(in_dir, f"input{k}.bin")
            data = np.fromfile(path, dtype=np.float32)
            if data.size != int(np.prod(old.shape)):
                raise HelperError("protocol", f"{path} holds {data.size} values, the input takes {int(np.prod(old.shape))}")
            arr = self._tensor(data.reshape(tuple(old.shape)).astype(str(old.dtype)))
            self.inputs[k] = arr
            if self.gen != "relax":
                self.gm.set_input(self.input_names[k], arr)
        if self.gen == "relax":
            self.last = self.fn(*self.inputs)
        else:
            self.gm.run()
        self.dev.sync()

    def write_outputs(self, out_dir):
        files = []
        for k, arr in enumerate(self.outputs()):
            path = os.path.join(out_dir, f"output{k}.bin")
            arr.tofile(path)
            files.append({"file": path, "dtype": str(arr.dtype), "shape": list(arr.shape)})
        return files

    def profile(self):
        """Per-operator times of one run: the VM's instrument hook syncs and times every call."""
        if self.gen != "relax":
            raise HelperError("unsupported", "per-operator profiles need TVM >= 0.20 (Relax VM)")
        times = {}
        state = {}

        def instrument(func, func_symbol, before_run, ret_value, *args):
            if before_run:
                self.dev.sync()
                state[func_symbol] = time.perf_counter()
            else:
                self.dev.sync()
                t = (time.perf_counter() - state.pop(func_symbol, time.perf_counter())) * 1000
                entry = times.setdefault(func_symbol, [0.0, 0])
                entry[0] += t
                entry[1] += 1
            return 0

        self.vm.set_instrument(self.tvm.runtime.convert(instrument) if hasattr(self.tvm.runtime, "convert") else instrument)
        try:
            self.fn(*self.inputs)
            self.dev.sync()
        finally:
            self.vm.set_instrument(None)
        ops = [{"name": k, "ms": v[0], "calls": v[1]} for k, v in times.items() if not k.startswith("vm.builtin.")]
        ops.sort(key=lambda o: -o["ms"])
        return ops


def serve(spec):
    session = Session(spec)
    # The run records these: the TVM and Python that time the inferences, not a separate probe's.
    emit({"event": "ready", "tvm": session.tvm.__version__, "python": sys.executable, "pythonVersion": sys.version.split()[0]})
    serve_loop(session, {"p": session.profile})


COMMANDS = {"probe": probe, "build": build, "serve": serve}


if __name__ == "__main__":
    sys.exit(run(sys.argv, COMMANDS, "jetbench_tvm.py"))
