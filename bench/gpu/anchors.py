"""The anchors the native kernels are measured against, on the same inputs, in the same run:
PyTorch on CUDA (interpolate + pad + normalise), OpenCV on the CPU (YOLOv5's own letterbox steps),
and torchvision.ops.batched_nms with YOLOv5's filtering. Prints one JSON object per line.
Usage: python3 anchors.py preprocess FRAME.bgr W H ITERS
       python3 anchors.py nms PRED.f32 ROWS COLS ITERS OURS.det
"""
import json
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

CONF, IOU, MAX_DET, MAX_NMS = 0.25, 0.45, 300, 30000


def geometry(w, h, size=640):
    r = min(size / h, size / w)
    nw, nh = int(np.floor(w * r + 0.5)), int(np.floor(h * r + 0.5))
    dw, dh = (size - nw) / 2, (size - nh) / 2
    left, top = max(0, int(np.floor(dw - 0.1 + 0.5))), max(0, int(np.floor(dh - 0.1 + 0.5)))
    return nw, nh, left, top, size - nw - left, size - nh - top


def cuda_median_ms(fn, iters, warmup=20):
    for _ in range(warmup):
        fn(0)
    times = []
    for i in range(iters):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        fn(i)
        b.record()
        torch.cuda.synchronize()
        times.append(a.elapsed_time(b))
    return float(np.median(times))


def preprocess(path, w, h, iters):
    import cv2
    frame = np.fromfile(path, dtype=np.uint8).reshape(h, w, 3)
    nw, nh, left, top, right, bottom = geometry(w, h)
    copies = [torch.from_numpy(frame).cuda() for _ in range(16)]
    result = {"bench": "preprocess-anchors", "torch": torch.__version__, "opencv": cv2.__version__, "opencvThreads": cv2.getNumThreads()}

    for dtype, key in ((torch.float32, "float32"), (torch.float16, "float16")):
        def torch_pre(i, dtype=dtype):
            x = copies[i % 16].permute(2, 0, 1).unsqueeze(0).flip(1).float()  # BGR -> RGB, NCHW
            x = F.interpolate(x, size=(nh, nw), mode="bilinear", align_corners=False)
            x = F.pad(x, (left, right, top, bottom), value=114.0)
            return (x / 255.0).to(dtype)
        result["torch_" + key + "_ms"] = cuda_median_ms(torch_pre, iters)

    def cv_pre():
        img = cv2.resize(frame, (nw, nh), interpolation=cv2.INTER_LINEAR)
        img = cv2.copyMakeBorder(img, top, bottom, left, right, cv2.BORDER_CONSTANT, value=(114, 114, 114))
        return np.ascontiguousarray(img[:, :, ::-1].transpose(2, 0, 1)).astype(np.float32) / 255.0
    for _ in range(5):
        cv_pre()
    times = []
    for _ in range(max(20, iters // 10)):
        t0 = time.perf_counter()
        cv_pre()
        times.append((time.perf_counter() - t0) * 1000)
    result["opencv_cpu_float32_ms"] = float(np.median(times))
    print(json.dumps(result), flush=True)


def nms(path, rows, cols, iters, ours_path):
    import torchvision
    pred = torch.from_numpy(np.fromfile(path, dtype=np.float32).reshape(rows, cols)).cuda()

    def yolo_nms(_i):
        x = pred[pred[:, 4] > CONF]
        scores = x[:, 5:] * x[:, 4:5]
        xy, wh = x[:, :2], x[:, 2:4] / 2
        box = torch.cat((xy - wh, xy + wh), 1)
        conf, j = scores.max(1, keepdim=True)
        x = torch.cat((box, conf, j.float()), 1)[conf.view(-1) > CONF]
        x = x[x[:, 4].argsort(descending=True)[:MAX_NMS]]
        keep = torchvision.ops.batched_nms(x[:, :4], x[:, 4], x[:, 5], IOU)[:MAX_DET]
        return x[keep]

    ms = cuda_median_ms(yolo_nms, iters)
    theirs = yolo_nms(0).cpu().numpy()
    ours_raw = np.fromfile(ours_path, dtype=np.uint8)
    ours = np.frombuffer(ours_raw.tobytes(), dtype=np.float32).reshape(-1, 6).copy()
    ours[:, 5] = np.frombuffer(ours_raw.tobytes(), dtype=np.int32).reshape(-1, 6)[:, 5]
    key = lambda a: sorted((int(c), *np.round(b, 3).tolist()) for *b, s, c in a.tolist())
    same = key(ours) == key(theirs)
    print(json.dumps({"bench": "nms-anchors", "torchvision": torchvision.__version__, "torchvision_batched_nms_ms": ms,
                      "torchvision_kept": int(len(theirs)), "ours_kept": int(len(ours)), "sameBoxesAsTorchvision": bool(same)}), flush=True)
    return 0 if same else 1


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "preprocess":
        preprocess(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
    else:
        sys.exit(nms(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]))
