/**
 * The one-node ONNX model (y = x + x over 4 floats) that tells whether a provider can run at all: the engine runs it
 * when it starts on a provider, `svd info` in a child process per provider.
 */
import { encodeModel } from '../graph/onnx/model-proto.ts';

export function probeModel(): Uint8Array {
  return encodeModel({
    graphName: 'probe',
    opsets: { '': 23 },
    nodes: [{ opType: 'Add', inputs: ['x', 'x'], outputs: ['y'] }],
    inputs: [{ name: 'x', dtype: 'float32', shape: [4] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [4] }],
    initializers: [],
  });
}
