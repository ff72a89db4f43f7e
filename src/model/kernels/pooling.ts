/**
 * The encoder's pooling as WGSL programs on the webgpu backend, NHWC:
 *
 *   maxPool2x2          y[b,i,j,c] = max over x[b, 2i + u, 2j + v, c], u, v ∈ {0, 1} inside the image:
 *                       tf.maxPool(x, 2, 2, 'same'). Output ⌈H/2⌉ × ⌈W/2⌉; windows start at 2i
 *                       with no top/left padding, so an odd H or W leaves the last window one row
 *                       or column short (tfjs pads the bottom/right with −∞).
 *   globalAveragePool   h[b,c] = 1/(H·W) Σ_{i,j} x[b,i,j,c]: tf.mean(x, [1, 2]).
 *
 * Both are tf.customGrad: the max-pool's gradient goes to each window's
 * maximum, the average pool's is dy/(H·W) everywhere. Channels go four to a
 * lane as vec4 where C is a multiple of 4, one per lane otherwise.
 */
import * as tf from '@tensorflow/tfjs';
import { channelVectorProgram, channelVectors, type ChannelVectors } from './batchNormRelu';
import { runProgram, validateActivations, webgpuBackend, type KernelProgram } from './webgpuProgram';

/** Invocations per workgroup (as the batch-norm programs). */
const WORKGROUP = 64;

/** One invocation per output vector: `count` work items, the bound read from the uniforms (`count`). */
function program(shaderKey: string, variableNames: string[], outputShape: number[], vectors: ChannelVectors, count: number, body: string): KernelProgram {
  return channelVectorProgram(shaderKey, variableNames, outputShape, vectors, Math.ceil(count / WORKGROUP), 'count : i32,', body);
}

/**
 * The window of output pixel (i, j) of vector `vector`, as WGSL: `base` is
 * x[b, 2i, 2j]'s index in vectors, and `hasRight`/`hasBelow` say whether
 * column 2j + 1 and row 2i + 1 lie inside the image (always, for an even W or H).
 */
function windowSnippet(h: number, w: number, groups: number): string {
  const outH = Math.ceil(h / 2);
  const outW = Math.ceil(w / 2);
  return `
      let vector = index % ${groups};
      let pixel = index / ${groups};
      let j = pixel % ${outW};
      let i = (pixel / ${outW}) % ${outH};
      let b = pixel / ${outW * outH};
      let base = ((b * ${h} + 2 * i) * ${w} + 2 * j) * ${groups} + vector;
      let hasRight = ${w % 2 === 0 ? 'true' : `2 * j + 1 < ${w}`};
      let hasBelow = ${h % 2 === 0 ? 'true' : `2 * i + 1 < ${h}`};
      let right = ${groups};
      let below = ${w * groups};`;
}

/** y = the window's maximum, one output vector per invocation. */
function maxPoolProgram(shape: number[], vectors: ChannelVectors): KernelProgram {
  const [b, h, w, c] = shape;
  const outShape = [b, Math.ceil(h / 2), Math.ceil(w / 2), c];
  const count = outShape[0] * outShape[1] * outShape[2] * vectors.groups;
  const body = `
    fn main(index : i32) {
      if (index >= uniforms.count) { return; }
      ${windowSnippet(h, w, vectors.groups)}
      var best = x[base];
      if (hasRight) { best = max(best, x[base + right]); }
      if (hasBelow) {
        best = max(best, x[base + below]);
        if (hasRight) { best = max(best, x[base + below + right]); }
      }
      result[index] = best;
    }`;
  return program(`maxPool2x2_${shape.join('_')}_${vectors.components}`, ['x'], outShape, vectors, count, body);
}

/**
 * dx: each window's dy goes to its maximum, the first in row-major order on
 * ties (strict >, as tfjs's maxPoolPositions), found again from x (no index
 * output kept from the forward: four loads per window, read anyway by the
 * layer's backward, against an int buffer the size of y held from forward to
 * backward). One window per invocation: stride = window, so the windows tile
 * x and every dx entry is written exactly once, the short windows' missing
 * row/column being outside the image.
 */
function maxPoolGradientProgram(shape: number[], vectors: ChannelVectors): KernelProgram {
  const [b, h, w] = shape;
  const { type } = vectors;
  const count = b * Math.ceil(h / 2) * Math.ceil(w / 2) * vectors.groups;
  const body = `
    fn main(index : i32) {
      if (index >= uniforms.count) { return; }
      ${windowSnippet(h, w, vectors.groups)}
      let gradient = dy[index];
      let zero = ${type}(0.0);
      // position of the maximum so far in the window, 0..3 row-major, per channel
      var best = x[base];
      var position = ${type}(0.0);
      if (hasRight) {
        let value = x[base + right];
        let larger = value > best;
        best = select(best, value, larger);
        position = select(position, ${type}(1.0), larger);
      }
      if (hasBelow) {
        let value = x[base + below];
        let larger = value > best;
        best = select(best, value, larger);
        position = select(position, ${type}(2.0), larger);
        if (hasRight) {
          let last = x[base + below + right];
          position = select(position, ${type}(3.0), last > best);
        }
      }
      result[base] = select(zero, gradient, position == ${type}(0.0));
      if (hasRight) { result[base + right] = select(zero, gradient, position == ${type}(1.0)); }
      if (hasBelow) {
        result[base + below] = select(zero, gradient, position == ${type}(2.0));
        if (hasRight) { result[base + below + right] = select(zero, gradient, position == ${type}(3.0)); }
      }
    }`;
  return program(`maxPool2x2Gradient_${shape.join('_')}_${vectors.components}`, ['x', 'dy'], shape, vectors, count, body);
}

/**
 * tf.maxPool(x, 2, 2, 'same') on the webgpu backend: [B, ⌈H/2⌉, ⌈W/2⌉, C],
 * differentiable (tf.customGrad; the gradient goes to the first maximum of
 * each window in row-major order, recomputed from x in the backward).
 */
export function maxPool2x2(x: tf.Tensor4D): tf.Tensor4D {
  const caller = 'maxPool2x2';
  validateActivations(caller, x);
  const backend = webgpuBackend(caller);
  const vectors = channelVectors(x.shape[3]);
  const [b, h, w] = x.shape;
  const windows = [{ type: 'int32' as const, data: [b * Math.ceil(h / 2) * Math.ceil(w / 2) * vectors.groups] }];
  const pool = tf.customGrad((xIn, saveArg) => {
    (saveArg as tf.GradSaveFunc)([xIn as tf.Tensor]);
    return {
      value: runProgram(backend, maxPoolProgram(x.shape, vectors), [xIn as tf.Tensor], windows),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        runProgram(backend, maxPoolGradientProgram(x.shape, vectors), [saved[0], dy], windows),
    };
  });
  return pool(x) as tf.Tensor4D;
}

/** h = mean over the H·W pixels, one (b, channel vector) per invocation. */
function averagePoolProgram(shape: number[], vectors: ChannelVectors): KernelProgram {
  const [b, h, w, c] = shape;
  const { groups, type } = vectors;
  const pixels = h * w;
  const body = `
    fn main(index : i32) {
      if (index >= uniforms.count) { return; }
      let vector = index % ${groups};
      let start = (index / ${groups}) * ${pixels * groups} + vector;
      var sum = ${type}(0.0);
      for (var p = 0; p < ${pixels}; p++) { sum += x[start + p * ${groups}]; }
      result[index] = sum / ${pixels}.0;
    }`;
  return program(`globalAveragePool_${shape.join('_')}_${vectors.components}`, ['x'], [b, c], vectors, b * groups, body);
}

/** dx[b,i,j,c] = dy[b,c]/(H·W), one x vector per invocation. */
function averagePoolGradientProgram(shape: number[], vectors: ChannelVectors): KernelProgram {
  const [b, h, w] = shape;
  const { groups } = vectors;
  const pixels = h * w;
  const body = `
    fn main(index : i32) {
      if (index >= uniforms.count) { return; }
      result[index] = dy[(index / ${pixels * groups}) * ${groups} + index % ${groups}] / ${pixels}.0;
    }`;
  return program(`globalAveragePoolGradient_${shape.join('_')}_${vectors.components}`, ['dy'], shape, vectors, b * pixels * groups, body);
}

/**
 * tf.mean(x, [1, 2]) on the webgpu backend: [B, C], differentiable
 * (tf.customGrad: dy/(H·W) broadcast over every pixel).
 */
export function globalAveragePool(x: tf.Tensor4D): tf.Tensor2D {
  const caller = 'globalAveragePool';
  validateActivations(caller, x);
  const backend = webgpuBackend(caller);
  const vectors = channelVectors(x.shape[3]);
  const [b, h, w] = x.shape;
  const pool = tf.customGrad((xIn) => {
    return {
      value: runProgram(backend, averagePoolProgram(x.shape, vectors), [xIn as tf.Tensor], [
        { type: 'int32', data: [b * vectors.groups] },
      ]),
      gradFunc: (dy: tf.Tensor) =>
        runProgram(backend, averagePoolGradientProgram(x.shape, vectors), [dy], [
          { type: 'int32', data: [b * h * w * vectors.groups] },
        ]),
    };
  });
  return pool(x) as tf.Tensor2D;
}
