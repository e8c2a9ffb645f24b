// The YOLOv5 v7.0 architecture (ultralytics/yolov5 models/yolov5s.yaml, common.py) in the form
// export.py writes it: BatchNorm fused into Conv (so every Conv has a bias), SiLU as x * sigmoid(x),
// and the Detect head decoded in the graph (sigmoid, grid and anchor decode, concat) to
// output0 [1, 25200, 85] for a 640x640 input. Weights are seeded random, not trained.
import type { onnx } from 'onnx-proto';
import { GraphBuilder, type FloatType } from './graph';
import { detLog, mulberry32, normal, seedFrom } from './prng';

export const INPUT_SIZE = 640;
export const NUM_CLASSES = 80;
/** Anchors in pixels for strides 8, 16, 32 (yolov5s.yaml). */
export const ANCHORS: ReadonlyArray<ReadonlyArray<[number, number]>> = [
  [[10, 13], [16, 30], [33, 23]],
  [[30, 61], [62, 45], [59, 119]],
  [[116, 90], [156, 198], [373, 326]],
];
export const STRIDES = [8, 16, 32] as const;

/** He-style gain that keeps the second moment of activations through a SiLU: for x ~ N(0, 1),
 * E[silu(x)^2] = 0.3557, so weights get std gain / sqrt(fan_in) with gain = 1 / sqrt(0.3557). */
const SILU_GAIN = 1.677;
/** Residual branches (Bottleneck's second conv) start small, as with zero-initialised residual
 * norms: without it every x + f(x) doubles the variance and deep C3 stacks overflow fp16. */
const RESIDUAL_SCALE = 0.3;
/** Spread of the Detect head's pre-bias logits: chosen so that, with YOLOv5's bias prior, a
 * synthetic street scene gives tens to a few hundred candidates above confidence 0.25 (tests
 * check the count), like a trained model on a busy frame. */
const DETECT_LOGIT_STD = 1.6;

export interface YoloOptions {
  floatType: FloatType;
  opset: 11 | 13;
  /** Name the weights are seeded from (the fp32, fp16 and int8 variants share weights). */
  seedName: string;
  /** Statistics of each Detect input (P3, P4, P5) measured on a synthetic frame: the Detect
   * conv is centred on them and scaled by them, so its logits vary from place to place around
   * YOLOv5's bias prior whatever the backbone's scale. Default: mean 0, std 1. */
  detectInputStats?: readonly FeatureStats[];
}

export interface FeatureStats {
  /** Mean of each channel over all positions. */
  channelMean: number[];
  /** Standard deviation of the centred values over all channels and positions. */
  std: number;
}

type Tensor = { name: string; channels: number };

class Yolo {
  readonly g: GraphBuilder;
  private readonly randn: () => number;

  constructor(readonly opts: YoloOptions) {
    this.g = new GraphBuilder(opts.floatType);
    this.randn = normal(mulberry32(seedFrom(opts.seedName)));
  }

  private weights(count: number, std: number): Float32Array {
    const w = new Float32Array(count);
    for (let i = 0; i < count; i++) w[i] = this.randn() * std;
    return w;
  }

  /** Conv2d(k, s, p = k/2) with bias (BN fused) + SiLU. */
  conv(x: Tensor, c2: number, k: number, s: number, p = Math.floor(k / 2), gain = SILU_GAIN): Tensor {
    const fanIn = x.channels * k * k;
    const w = this.g.floats('conv.weight', [c2, x.channels, k, k], this.weights(c2 * fanIn, gain / Math.sqrt(fanIn)));
    const b = this.g.floats('conv.bias', [c2], this.weights(c2, 0.05));
    const y = this.g.one('Conv', [x.name, w, b], { kernel_shape: [k, k], strides: [s, s], pads: [p, p, p, p], dilations: [1, 1], group: 1 });
    const sig = this.g.one('Sigmoid', [y]);
    return { name: this.g.one('Mul', [y, sig]), channels: c2 };
  }

  bottleneck(x: Tensor, c2: number, shortcut: boolean): Tensor {
    const residual = shortcut && x.channels === c2;
    const y = this.conv(this.conv(x, c2, 1, 1), c2, 3, 1, 1, residual ? SILU_GAIN * RESIDUAL_SCALE : SILU_GAIN);
    return residual && x.channels === c2 ? { name: this.g.one('Add', [x.name, y.name]), channels: c2 } : y;
  }

  c3(x: Tensor, c2: number, n: number, shortcut = true): Tensor {
    const c = Math.floor(c2 * 0.5);
    let m = this.conv(x, c, 1, 1);
    for (let i = 0; i < n; i++) m = this.bottleneck(m, c, shortcut);
    const side = this.conv(x, c, 1, 1);
    return this.conv(this.concat([m, side]), c2, 1, 1);
  }

  sppf(x: Tensor, c2: number, k = 5): Tensor {
    const c = Math.floor(x.channels / 2);
    const a = this.conv(x, c, 1, 1);
    const pool = (t: Tensor): Tensor => ({
      name: this.g.one('MaxPool', [t.name], { kernel_shape: [k, k], strides: [1, 1], pads: [k >> 1, k >> 1, k >> 1, k >> 1] }),
      channels: t.channels,
    });
    const y1 = pool(a);
    const y2 = pool(y1);
    const y3 = pool(y2);
    return this.conv(this.concat([a, y1, y2, y3]), c2, 1, 1);
  }

  concat(xs: Tensor[]): Tensor {
    return { name: this.g.one('Concat', xs.map((t) => t.name), { axis: 1 }), channels: xs.reduce((a, t) => a + t.channels, 0) };
  }

  /** nn.Upsample(scale_factor=2, mode='nearest') as torch exports it: Resize with scales. */
  upsample(x: Tensor): Tensor {
    const roi = this.g.init(this.g.unique('resize.roi'), [0], 'float32', []);
    const scales = this.g.init(this.g.unique('resize.scales'), [4], 'float32', [1, 1, 2, 2]);
    const y = this.g.one('Resize', [x.name, roi, scales], {
      mode: 'nearest',
      coordinate_transformation_mode: 'asymmetric',
      nearest_mode: 'floor',
    });
    return { name: y, channels: x.channels };
  }

  /** Detect: per level a 1x1 conv to 3 x 85, then the export decode; the final concat is the
   * graph's last node. */
  detect(levels: Tensor[]): void {
    const g = this.g;
    const no = NUM_CLASSES + 5;
    const outs: string[] = [];
    levels.forEach((x, i) => {
      const stride = STRIDES[i]!;
      const ny = INPUT_SIZE / stride;
      const nx = INPUT_SIZE / stride;
      const c2 = 3 * no;
      const stats = this.opts.detectInputStats?.[i];
      const wv = this.weights(c2 * x.channels, DETECT_LOGIT_STD / ((stats?.std ?? 1) * Math.sqrt(x.channels)));
      const w = g.floats('detect.weight', [c2, x.channels, 1, 1], wv);
      // YOLOv5's Detect._initialize_biases: objectness prior of 8 objects per 640x640 image,
      // class prior 0.6 / (nc - 0.99).
      const bias = new Float32Array(c2);
      for (let a = 0; a < 3; a++) {
        bias[a * no + 4] = detLog(8 / ((640 / stride) * (640 / stride)));
        for (let c = 0; c < NUM_CLASSES; c++) bias[a * no + 5 + c] = detLog(0.6 / (NUM_CLASSES - 0.99));
      }
      // Centre: subtract what the channel means contribute, so the prior is the average logit.
      if (stats) {
        for (let o = 0; o < c2; o++) {
          let dot = 0;
          for (let c = 0; c < x.channels; c++) dot += wv[o * x.channels + c]! * stats.channelMean[c]!;
          bias[o] = bias[o]! - dot;
        }
      }
      const b = g.floats('detect.bias', [c2], bias);
      const y = g.one('Conv', [x.name, w, b], { kernel_shape: [1, 1], strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], group: 1 });
      const r = g.one('Reshape', [y, g.int64s('shape', [1, 3, no, ny, nx])]);
      const t = g.one('Transpose', [r], { perm: [0, 1, 3, 4, 2] });
      const s = g.one('Sigmoid', [t]);
      const slice = (from: number, to: number) => g.one('Slice', [s, g.int64s('starts', [from]), g.int64s('ends', [to]), g.int64s('axes', [4]), g.int64s('steps', [1])]);
      const two = g.floats('two', [1], [2]);
      // grid = (x - 0.5, y - 0.5) per cell (v7.0 _make_grid), anchors in pixels.
      const grid = new Float32Array(ny * nx * 2);
      for (let yy = 0; yy < ny; yy++) {
        for (let xx = 0; xx < nx; xx++) {
          grid[(yy * nx + xx) * 2] = xx - 0.5;
          grid[(yy * nx + xx) * 2 + 1] = yy - 0.5;
        }
      }
      const gridT = g.floats('grid', [1, 1, ny, nx, 2], grid);
      const anchorT = g.floats('anchor_grid', [1, 3, 1, 1, 2], ANCHORS[i]!.flat());
      const strideT = g.floats('stride', [1], [stride]);
      const xy = g.one('Mul', [g.one('Add', [g.one('Mul', [slice(0, 2), two]), gridT]), strideT]);
      const wh2 = g.one('Mul', [slice(2, 4), two]);
      const wh = g.one('Mul', [g.one('Mul', [wh2, wh2]), anchorT]);
      const cat = g.one('Concat', [xy, wh, slice(4, no)], { axis: 4 });
      outs.push(g.one('Reshape', [cat, g.int64s('shape', [1, 3 * ny * nx, no])]));
    });
    g.one('Concat', outs, { axis: 1 });
  }
}

/** round(n * depth) repeats, at least 1 (yolo.py parse_model). */
function repeats(n: number, depth: number): number {
  return n > 1 ? Math.max(Math.round(n * depth), 1) : n;
}

/** Channels scaled by width, rounded up to a multiple of 8 (make_divisible). */
function channels(c: number, width: number): number {
  return Math.ceil((c * width) / 8) * 8;
}

/** Names the graph's output as export.py does (the Detect concat is the last node) and wraps up. */
function finish(y: Yolo, graphName: string): onnx.ModelProto {
  const g = y.g;
  g.nodes[g.nodes.length - 1]!.output = ['output0'];
  return g.model({
    inputs: [{ name: 'images', type: y.opts.floatType, shape: [1, 3, INPUT_SIZE, INPUT_SIZE] }],
    outputs: [{ name: 'output0', type: y.opts.floatType, shape: [1, 25200, NUM_CLASSES + 5] }],
    opset: y.opts.opset,
    graphName,
    docString: `${graphName}: YOLOv5 v7.0 architecture generated by jetbench (seeded random weights, not trained)`,
  });
}

/** YOLOv5 v7.0 with the given depth and width multiples (n: 0.33/0.25, s: 0.33/0.5, m: 0.67/0.75). */
export function buildYolov5(depth: number, width: number, graphName: string, opts: YoloOptions): onnx.ModelProto {
  const y = new Yolo(opts);
  const ch = (c: number) => channels(c, width);
  const n = (k: number) => repeats(k, depth);
  const images: Tensor = { name: 'images', channels: 3 };
  const b0 = y.conv(images, ch(64), 6, 2, 2);
  const b1 = y.conv(b0, ch(128), 3, 2);
  const b2 = y.c3(b1, ch(128), n(3));
  const b3 = y.conv(b2, ch(256), 3, 2);
  const b4 = y.c3(b3, ch(256), n(6));
  const b5 = y.conv(b4, ch(512), 3, 2);
  const b6 = y.c3(b5, ch(512), n(9));
  const b7 = y.conv(b6, ch(1024), 3, 2);
  const b8 = y.c3(b7, ch(1024), n(3));
  const b9 = y.sppf(b8, ch(1024), 5);
  const h10 = y.conv(b9, ch(512), 1, 1);
  const h13 = y.c3(y.concat([y.upsample(h10), b6]), ch(512), n(3), false);
  const h14 = y.conv(h13, ch(256), 1, 1);
  const h17 = y.c3(y.concat([y.upsample(h14), b4]), ch(256), n(3), false);
  const h18 = y.conv(h17, ch(256), 3, 2);
  const h20 = y.c3(y.concat([h18, h14]), ch(512), n(3), false);
  const h21 = y.conv(h20, ch(512), 3, 2);
  const h23 = y.c3(y.concat([h21, h10]), ch(1024), n(3), false);
  y.detect([h17, h20, h23]);
  return finish(y, graphName);
}

/** `tiny`: YOLOv5's input/output contract and Detect decode on a few strided convs, so tests and
 * pipelines run the same code paths in about a millisecond of compute. */
export function buildTiny(opts: YoloOptions): onnx.ModelProto {
  const y = new Yolo(opts);
  const s4 = y.conv({ name: 'images', channels: 3 }, 8, 4, 4, 0);
  const p3 = y.conv(s4, 16, 3, 2);
  const p4 = y.conv(p3, 16, 3, 2);
  const p5 = y.conv(p4, 16, 3, 2);
  y.detect([p3, p4, p5]);
  return finish(y, 'tiny');
}
