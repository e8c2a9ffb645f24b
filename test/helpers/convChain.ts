// Synthetic models of known cost. convChain: latency close to linear in one number (its layers),
// so a known slowdown can be measured (10% more layers, about 10% slower; bench:compare and the
// comparison's integration test). microModel: one Relu on 16 floats, microseconds a call, for runs
// of a million samples in seconds.
import { writeFileSync } from 'node:fs';
import { onnx } from 'onnx-proto';
import { GraphBuilder } from '../../models/src/graph';
import { mulberry32 } from '../../models/src/prng';

/** A chain of `layers` 3x3 convolutions (32 channels, 64x64): latency close to linear in layers. */
export function convChain(layers: number, file: string): string {
  const g = new GraphBuilder('float32');
  const rnd = mulberry32(7);
  let x = 'input';
  for (let i = 0; i < layers; i++) {
    const w = g.floats('w', [32, 32, 3, 3], Array.from({ length: 32 * 32 * 9 }, () => (rnd() - 0.5) * 0.1));
    x = g.one('Relu', [g.one('Conv', [x, w], { pads: [1, 1, 1, 1], kernel_shape: [3, 3] })]);
  }
  g.nodes[g.nodes.length - 1]!.output = ['output'];
  const model = g.model({
    inputs: [{ name: 'input', type: 'float32', shape: [1, 32, 64, 64] }],
    outputs: [{ name: 'output', type: 'float32', shape: [1, 32, 64, 64] }],
    opset: 13,
    graphName: `conv-chain-${layers}`,
    docString: `bench:compare: ${layers} 3x3 convolutions`,
  });
  writeFileSync(file, onnx.ModelProto.encode(model).finish());
  return file;
}


/** One Relu on a [1, 16] input: each inference costs microseconds (mostly the runtime's call). */
export function microModel(file: string): string {
  const g = new GraphBuilder('float32');
  g.one('Relu', ['input']);
  g.nodes[g.nodes.length - 1]!.output = ['output'];
  const model = g.model({
    inputs: [{ name: 'input', type: 'float32', shape: [1, 16] }],
    outputs: [{ name: 'output', type: 'float32', shape: [1, 16] }],
    opset: 13,
    graphName: 'micro',
    docString: 'one Relu: a microsecond model for million-sample runs',
  });
  writeFileSync(file, onnx.ModelProto.encode(model).finish());
  return file;
}
