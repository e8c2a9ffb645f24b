#!/usr/bin/env python3
"""jetbench's PyTorch helper: the agent runs models in the device's own `torch` through this script.

The same protocol as jetbench_tvm.py (one JSON argument each; events are JSON lines on stdout,
diagnostics on stderr):
  probe                 -> {"event": "done", "torch": "2.11.0", "cuda": true, "gpu": "NVIDIA H200", ...}
  serve  SPEC           -> {"event": "ready", "torch": ..., "python": ..., "device": "cuda", ...}
                           (what runs the model), then one answer line per stdin command:
                           "i"            one timed inference -> "<ms>"
                           "o <dir>"      writes each output as raw float32 -> JSON list of files
Errors: {"event": "error", "kind": ..., "message": ...} and exit code 1.

SPEC: {"model": path (.onnx through onnx2torch, or a TorchScript .pt / torch.export .pt2),
       "inputs": [{"name", "dtype", "shape", "file"}], "device": "cuda"|"cpu"|null,
       "precision": "fp32"|"fp16"|"bf16", "mode": "eager"|"cuda-graph"|"compile", "span": "device"|"host",
       "tf32": bool, "threads": int|null, "compileCache": dir for TorchInductor's cache (mode compile)}
"""
import os
import sys
import time

from jetbench_helper import HelperError, emit, run, serve_loop

# The converter jetbench is tested with (requirements-test.txt); another version may convert
# differently, so the run records the one that did.
ONNX2TORCH_TESTED = "1.5.15"


def import_torch():
    try:
        import torch  # noqa: F401
    except ImportError as e:
        raise HelperError(
            "no-torch",
            f"Python {sys.executable} cannot import torch ({e}): install PyTorch in that Python "
            "(pip install torch; on a Jetson, NVIDIA's JetPack wheel) or point jetbench at a Python that has it (--python)",
        )
    return torch


def onnx2torch_version():
    try:
        from importlib.metadata import version
        return version("onnx2torch")
    except Exception:  # noqa: BLE001 - not installed
        return None


def probe(_spec):
    torch = import_torch()
    cuda = bool(torch.cuda.is_available())
    emit({
        "event": "done",
        "torch": torch.__version__,
        "cuda": cuda,
        "gpu": torch.cuda.get_device_name(0) if cuda else None,
        "cudaRuntime": torch.version.cuda,
        "onnx2torch": onnx2torch_version(),
        "python": sys.executable,
        "pythonVersion": sys.version.split()[0],
    })


def unsupported_op(e):
    """onnx2torch raises NotImplementedError naming the op: OperationDescription(domain='',
    operation_type='Foo', version=13)."""
    text = str(e)
    op = None
    if "operation_type=" in text:
        op = text.split("operation_type=", 1)[1].split(",", 1)[0].strip("'\" )")
    version = None
    if "version=" in text:
        version = text.split("version=", 1)[1].split(")", 1)[0].strip()
    if op:
        return HelperError(
            "unsupported-op",
            f"onnx2torch cannot convert ONNX op '{op}'{f' (opset {version})' if version else ''}: run this model with "
            "--backend onnxruntime or tvm, or export it from PyTorch as TorchScript (.pt) or torch.export (.pt2)",
        )
    return HelperError("import-failed", f"onnx2torch could not convert the model: {text.strip().splitlines()[-1] if text.strip() else type(e).__name__}")


def load_module(torch, path):
    """The model as a torch.nn.Module: ONNX through onnx2torch; TorchScript or torch.export files as they are."""
    if path.lower().endswith(".onnx"):
        version = onnx2torch_version()
        if version is None:
            raise HelperError(
                "missing-dependency",
                f"Python {sys.executable} has torch but not onnx2torch, which turns the ONNX model into a PyTorch module: "
                f"pip install onnx2torch=={ONNX2TORCH_TESTED} (the version jetbench is tested with)",
            )
        import onnx
        from onnx2torch import convert
        try:
            model = onnx.load(path)
        except Exception as e:  # noqa: BLE001
            raise HelperError("bad-model", f"cannot read ONNX model {path}: {e}")
        try:
            return convert(model), f"onnx2torch {version}"
        except NotImplementedError as e:
            raise unsupported_op(e)
        except Exception as e:  # noqa: BLE001
            raise HelperError("import-failed", f"onnx2torch could not convert {path}: {type(e).__name__}: {e}")
    if path.lower().endswith(".pt2"):
        return torch.export.load(path).module(), "torch.export"
    try:
        return torch.jit.load(path, map_location="cpu"), "TorchScript"
    except Exception as e:  # noqa: BLE001
        raise HelperError("bad-model", f"cannot load {path} as TorchScript ({e}): give an .onnx file, a TorchScript .pt or a torch.export .pt2")


NP_DTYPES = {"float32": "float32", "float16": "float16", "int64": "int64", "int32": "int32", "uint8": "uint8", "bool": "bool"}


def flat_outputs(out):
    if isinstance(out, (list, tuple)):
        items = []
        for o in out:
            items.extend(flat_outputs(o))
        return items
    if isinstance(out, dict):
        return flat_outputs(list(out.values()))
    return [out]


def _static_slice(x, flip_dims, pos_slices, neg_slices):
    """onnx2torch's Slice with its starts/ends/axes/steps already turned into Python slices."""
    if flip_dims:
        x = x.flip(list(flip_dims))
    if pos_slices:
        x = x[tuple(pos_slices)]
    if neg_slices:
        x = x[tuple(neg_slices)]
    return x


def _stored(module, node):
    """The tensor a get_attr node reads (an ONNX initializer), or None for anything computed."""
    if node is None or getattr(node, "op", None) != "get_attr":
        return None
    value = module
    for part in node.target.split("."):
        value = getattr(value, part)
    return value


def fold_static_shapes(torch, module):
    """onnx2torch's Reshape builds torch.Size from its shape tensor and its Slice branches on its
    starts/ends/steps tensors on every call, which TorchDynamo cannot trace (a FakeTensor is not an
    int: a graph break or an error at each one). Where those tensors are stored initializers, the
    call becomes torch.reshape or indexing with Python integers, so the graph compiles whole.
    Returns (reshapes folded, slices folded)."""
    graph = getattr(module, "graph", None)
    if graph is None:
        return 0, 0
    try:
        from onnx2torch.node_converters.reshape import OnnxReshape
        from onnx2torch.node_converters.slice import OnnxSlice, _get_slices
    except ImportError:
        return 0, 0
    reshapes = slices = 0
    for node in list(graph.nodes):
        if node.op != "call_module" or node.kwargs:
            continue
        target = module.get_submodule(node.target)
        replacement = None
        if isinstance(target, OnnxReshape) and len(node.args) == 2:
            shape = _stored(module, node.args[1])
            dims = None if shape is None else [int(d) for d in shape.reshape(-1).tolist()]
            if dims is not None and 0 not in dims:  # 0 = copy the input's dimension: left as it is
                with graph.inserting_after(node):
                    replacement = graph.call_function(torch.reshape, (node.args[0], tuple(dims)))
                reshapes += 1
        elif isinstance(target, OnnxSlice) and 3 <= len(node.args) <= 5:
            rest = list(node.args[1:]) + [None] * (5 - len(node.args))
            values = [_stored(module, a) for a in rest]
            if all(v is not None or a is None for v, a in zip(values, rest)) and values[0] is not None and values[1] is not None:
                flip, pos, neg = _get_slices(*values)

                def ints(items):
                    return [slice(int(i.start), int(i.stop), int(i.step)) if isinstance(i, slice) and i.start is not None else i for i in items]

                with graph.inserting_after(node):
                    replacement = graph.call_function(_static_slice, (node.args[0], tuple(int(d) for d in flip), tuple(ints(pos)), tuple(ints(neg))))
                slices += 1
        if replacement is not None:
            node.replace_all_uses_with(replacement)
            graph.erase_node(node)
    if reshapes or slices:
        graph.eliminate_dead_code()
        module.recompile()
    return reshapes, slices


def tree_bytes(root):
    total = 0
    for base, _dirs, files in os.walk(root):
        for name in files:
            try:
                total += os.path.getsize(os.path.join(base, name))
            except OSError:
                pass
    return total


class Session:
    def __init__(self, spec):
        import numpy as np
        if spec.get("mode") == "compile" and spec.get("compileCache"):
            # Before torch is imported: TorchInductor reads its cache directory once.
            os.environ["TORCHINDUCTOR_CACHE_DIR"] = spec["compileCache"]
        torch = import_torch()
        self.torch = torch
        want = spec.get("device")
        cuda = bool(torch.cuda.is_available())
        if want == "cuda" and not cuda:
            raise HelperError(
                "no-cuda",
                f"PyTorch {torch.__version__} in {sys.executable} sees no CUDA device (torch.cuda.is_available() is False): "
                "use --torch-device cpu, or a PyTorch built with CUDA on a machine with an NVIDIA GPU",
            )
        self.device = want or ("cuda" if cuda else "cpu")
        self.cuda = self.device == "cuda"
        precision = spec.get("precision", "fp32")
        self.dtype = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}[precision]
        if precision == "fp16" and not self.cuda:
            raise HelperError("unsupported", "fp16 with PyTorch runs on CUDA only here (the CPU kernels are slow or missing for half): use --torch-device cuda, or --precision bf16 or fp32 on the CPU")
        # "fp32" means fp32: cuDNN and cuBLAS use TF32 on Ampere and newer unless told not to.
        self.tf32 = bool(spec.get("tf32", False))
        torch.backends.cuda.matmul.allow_tf32 = self.tf32
        torch.backends.cudnn.allow_tf32 = self.tf32
        if spec.get("threads"):
            torch.set_num_threads(int(spec["threads"]))
        module, self.loader = load_module(torch, spec["model"])
        self.module = module.eval().to(self.device)
        if self.dtype != torch.float32:
            self.module = self.module.to(self.dtype)
        host = []
        for i in spec["inputs"]:
            data = np.fromfile(i["file"], dtype=NP_DTYPES.get(i["dtype"], i["dtype"])).reshape(i["shape"])
            t = torch.from_numpy(data.copy())
            if t.is_floating_point():
                t = t.to(self.dtype)
            host.append(t.pin_memory() if self.cuda else t)
        self.host_inputs = host
        self.inputs = [t.to(self.device) for t in host]
        self.mode = spec.get("mode", "eager")
        self.span = spec.get("span") or ("device" if self.cuda else "host")
        self.graph = None
        self.static_out = None
        self.compile_ms = None
        self.compile_info = {}
        torch.set_grad_enabled(False)
        if self.mode == "cuda-graph":
            self._capture()
        elif self.mode == "compile":
            self._compile(spec.get("compileCache"))
        if self.cuda:
            self.start = torch.cuda.Event(enable_timing=True)
            self.end = torch.cuda.Event(enable_timing=True)

    def _capture(self):
        torch = self.torch
        if not self.cuda:
            raise HelperError("unsupported", "--torch-mode cuda-graph needs --torch-device cuda")
        try:
            self._capture_module(self.module)
            return
        except Exception as e:  # noqa: BLE001
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        # onnx2torch's Reshape/Slice converters build shapes from CPU tensors on every call, which a
        # capture refuses; a trace records them as constants on the device (the shapes are static).
        try:
            torch.cuda.synchronize()
            with torch.inference_mode(False), torch.no_grad():
                traced = torch.jit.freeze(torch.jit.trace(self.module, tuple(self.inputs), check_trace=False, strict=False).eval())
            self._capture_module(traced)
            self.module = traced
            self.loader += ", traced (torch.jit) for the CUDA graph"
        except Exception as e2:  # noqa: BLE001
            second = str(e2).strip().splitlines()[0] if str(e2).strip() else type(e2).__name__
            raise HelperError(
                "unsupported",
                f"CUDA graph capture of this model failed ({first}), and of its torch.jit trace too ({second}): "
                "its PyTorch module does work on the host while it runs; use --torch-mode eager",
            )

    def _compile(self, cache):
        """torch.compile (TorchDynamo + TorchInductor, default mode) and its first call, which is
        when it compiles: that time is the run's build."""
        torch = self.torch
        if not hasattr(torch, "compile"):
            raise HelperError("unsupported", f"--torch-mode compile needs PyTorch 2.0 or newer (this is {torch.__version__}): use --torch-mode eager")
        reshapes, slices = fold_static_shapes(torch, self.module)
        import torch._dynamo as dynamo
        dynamo.reset()
        started = time.perf_counter()
        try:
            compiled = torch.compile(self.module, dynamic=False)
            with torch.inference_mode():
                compiled(*self.inputs)
            if self.cuda:
                torch.cuda.synchronize()
        except Exception as e:  # noqa: BLE001
            text = str(e).strip()
            first = next((line for line in text.splitlines() if line.strip()), type(e).__name__)
            raise HelperError(
                "unsupported",
                f"torch.compile of this model failed ({type(e).__name__}: {first[:300]}): use --torch-mode eager"
                + (" or cuda-graph" if self.cuda else ""),
            )
        self.compile_ms = (time.perf_counter() - started) * 1000
        breaks = 0
        try:
            from torch._dynamo.utils import counters
            breaks = sum(counters["graph_break"].values())
        except Exception:  # noqa: BLE001
            pass
        self.module = compiled
        folded = ", ".join(f"{n} {what}" for n, what in ((reshapes, "reshapes"), (slices, "slices")) if n)
        self.compile_info = {"compiler": f"torch.compile (inductor{f', {folded} folded' if folded else ''})", "compileMs": self.compile_ms, "graphBreaks": breaks, "compileCache": cache, "compileCacheBytes": tree_bytes(cache) if cache else None}

    def _capture_module(self, module):
        torch = self.torch
        # Warm up on a side stream (cuDNN picks its algorithms), then capture one forward pass.
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side), torch.inference_mode():
            for _ in range(3):
                module(*self.inputs)
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph), torch.inference_mode():
            out = module(*self.inputs)
        self.graph = graph
        self.static_out = out

    def _forward(self):
        if self.graph is not None:
            self.graph.replay()
            return self.static_out
        with self.torch.inference_mode():
            return self.module(*self.inputs)

    def infer_ms(self):
        torch = self.torch
        if self.span == "device" and self.cuda:
            # CUDA events around the forward pass on inputs already on the GPU.
            self.start.record()
            self._forward()
            self.end.record()
            self.end.synchronize()
            return self.start.elapsed_time(self.end)
        # Host clock around copying the inputs in, the forward pass and copying the outputs back.
        t0 = time.perf_counter()
        if self.cuda:
            for dst, src in zip(self.inputs, self.host_inputs):
                dst.copy_(src, non_blocking=True)
        out = self._forward()
        outs = [o.to("cpu") for o in flat_outputs(out) if isinstance(o, torch.Tensor)]
        if self.cuda:
            torch.cuda.synchronize()
        del outs
        return (time.perf_counter() - t0) * 1000

    def set_inputs(self, in_dir):
        """Real frames for the fidelity check: each input from in_dir/input<k>.bin (float32),
        copied in place into the tensors the module (its CUDA graph, its compiled code) reads."""
        import numpy as np
        for k, (dst, host) in enumerate(zip(self.inputs, self.host_inputs)):
            path = os.path.join(in_dir, f"input{k}.bin")
            data = np.fromfile(path, dtype=np.float32)
            if data.size != dst.numel():
                raise HelperError("protocol", f"{path} holds {data.size} values, the input takes {dst.numel()}")
            t = self.torch.from_numpy(data.reshape(tuple(dst.shape))).to(dst.dtype)
            host.copy_(t)
            dst.copy_(t)

    def write_outputs(self, out_dir):
        torch = self.torch
        out = self._forward()
        files = []
        for k, o in enumerate(x for x in flat_outputs(out) if isinstance(x, torch.Tensor)):
            arr = o.detach().to("cpu", torch.float32).contiguous().numpy()
            path = os.path.join(out_dir, f"output{k}.bin")
            arr.tofile(path)
            files.append({"file": path, "dtype": "float32", "shape": list(arr.shape)})
        return files


def serve(spec):
    session = Session(spec)
    torch = session.torch
    emit({
        "event": "ready",
        "torch": torch.__version__,
        "python": sys.executable,
        "pythonVersion": sys.version.split()[0],
        "device": session.device,
        "gpu": torch.cuda.get_device_name(0) if session.cuda else None,
        "cudaRuntime": torch.version.cuda,
        "loader": session.loader,
        "mode": session.mode,
        "span": session.span,
        "tf32": session.tf32,
        "threads": torch.get_num_threads(),
        **session.compile_info,
    })
    serve_loop(session)


def build(spec):
    """The model as a TorchScript file for libtorch in the native pipeline (issue 15 item 2): traced
    on the GPU in the run's precision, frozen, saved to spec["out"] (written beside it, then renamed)."""
    torch = import_torch()
    if not torch.cuda.is_available():
        raise HelperError(
            "no-cuda",
            f"PyTorch {torch.__version__} in {sys.executable} sees no CUDA device: the pipeline runs PyTorch on the GPU, "
            "sharing device buffers with its CUDA stages; use --backend onnxruntime on a device without one",
        )
    precision = spec.get("precision", "fp32")
    dtype = {"fp32": torch.float32, "fp16": torch.float16}.get(precision)
    if dtype is None:
        raise HelperError("unsupported", f"the pipeline's PyTorch stage runs fp32 or fp16 (its buffers are float32 or float16), not {precision}")
    torch.backends.cuda.matmul.allow_tf32 = bool(spec.get("tf32", False))
    torch.backends.cudnn.allow_tf32 = bool(spec.get("tf32", False))
    module, loader = load_module(torch, spec["model"])
    module = module.eval().to("cuda").to(dtype)
    example = torch.zeros(spec["shape"], dtype=dtype, device="cuda")
    with torch.no_grad():
        try:
            traced = torch.jit.freeze(torch.jit.trace(module, (example,), check_trace=False, strict=False).eval())
        except Exception as e:  # noqa: BLE001
            raise HelperError("unsupported", f"torch.jit.trace of this model failed ({type(e).__name__}: {str(e).strip().splitlines()[0] if str(e).strip() else ''}): the pipeline needs a traceable model")
        out = traced(example)
    outs = [o for o in flat_outputs(out) if isinstance(o, torch.Tensor)]
    tmp = spec["out"] + ".partial"
    traced.save(tmp)
    os.replace(tmp, spec["out"])
    emit({
        "event": "done",
        "file": spec["out"],
        "torch": torch.__version__,
        "loader": loader + ", traced and frozen (torch.jit)",
        "outputShape": list(outs[0].shape) if outs else None,
        "outputDtype": str(outs[0].dtype).replace("torch.", "") if outs else None,
    })


COMMANDS = {"probe": probe, "serve": serve, "build": build}


if __name__ == "__main__":
    sys.exit(run(sys.argv, COMMANDS, "jetbench_torch.py"))
