"""pycocotools' AP at IoU 0.5 and its matches, for test/unit/fidelity.test.ts: reads
{"frames": [{"reference": [box], "test": [box]}]} (box: x1, y1, x2, y2, score, classId) on stdin and
prints {"ap50": stats[1], "matched": test boxes matched at IoU 0.5, "testBoxes", "referenceBoxes"}."""
import contextlib
import io
import json
import sys

from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

doc = json.load(sys.stdin)
images, gts, dts, cats = [], [], [], set()
for i, f in enumerate(doc["frames"]):
    images.append({"id": i + 1})
    for b in f["reference"]:
        w, h = b["x2"] - b["x1"], b["y2"] - b["y1"]
        gts.append({"id": len(gts) + 1, "image_id": i + 1, "category_id": b["classId"] + 1, "bbox": [b["x1"], b["y1"], w, h], "area": w * h, "iscrowd": 0})
        cats.add(b["classId"] + 1)
    for b in f["test"]:
        dts.append({"image_id": i + 1, "category_id": b["classId"] + 1, "bbox": [b["x1"], b["y1"], b["x2"] - b["x1"], b["y2"] - b["y1"]], "score": b["score"]})
        cats.add(b["classId"] + 1)
with contextlib.redirect_stdout(io.StringIO()):
    gt = COCO()
    gt.dataset = {"images": images, "annotations": gts, "categories": [{"id": c} for c in sorted(cats)]}
    gt.createIndex()
    dt = gt.loadRes(dts) if dts else COCO()
    ev = COCOeval(gt, dt, "bbox")
    ev.evaluate()
    ev.accumulate()
    ev.summarize()
matched = 0
for e in ev.evalImgs:
    # area "all" and maxDets 100: the entries whose aRng is [0, 1e10]
    if e is None or e["aRng"] != [0, 1e10]:
        continue
    matched += int((e["dtMatches"][0] > 0).sum())
print(json.dumps({"ap50": float(ev.stats[1]), "matched": matched, "testBoxes": len(dts), "referenceBoxes": len(gts)}))
