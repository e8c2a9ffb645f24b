#!/usr/bin/env python3
"""A GPU workload for the telemetry checks (issue 14), on the GPU machine's PyTorch.

  python3 gpu_load.py light|heavy SECONDS [IDLE_SECONDS]

Creates the CUDA context, prints "context", stays idle IDLE_SECONDS (default 3) holding it, prints
"start", then runs for SECONDS: `light` = a small fp32 matmul every 5 ms (a latency-bound load far
below any limit), `heavy` = back-to-back 8192x8192 bf16 GEMMs (on an H200 this reaches the 700 W
cap). Prints "done N" with the number of iterations.
"""
import sys
import time

import torch

kind, seconds = sys.argv[1], float(sys.argv[2])
idle = float(sys.argv[3]) if len(sys.argv) > 3 else 3.0
dev = torch.device("cuda")
if kind == "heavy":
    a = torch.randn(8192, 8192, device=dev, dtype=torch.bfloat16)
    b = torch.randn(8192, 8192, device=dev, dtype=torch.bfloat16)
else:
    a = torch.randn(256, 256, device=dev)
    b = torch.randn(256, 256, device=dev)
(a @ b).sum().item()
torch.cuda.synchronize()
print("context", flush=True)
time.sleep(idle)
print("start", flush=True)
n = 0
end = time.monotonic() + seconds
while time.monotonic() < end:
    if kind == "heavy":
        for _ in range(8):
            c = a @ b
        torch.cuda.synchronize()
        n += 8
    else:
        c = a @ b
        torch.cuda.synchronize()
        n += 1
        time.sleep(0.005)
print("done %d" % n, flush=True)
