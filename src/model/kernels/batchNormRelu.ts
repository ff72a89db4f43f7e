/**
 * Batch normalization (Ioffe & Szegedy 2015) fused with the ReLU after it, as
 * WGSL programs on the webgpu backend, for the encoder's NHWC activations
 * x [B, H, W, C] seen as M = B·H·W rows of C channels (row r, channel c at
 * r·C + c):
 *
 *   statistics   μ_c = 1/M Σ_r x_rc,  σ²_c = 1/M Σ_r (x_rc − μ_c)²   (biased, as tf.moments)
 *   forward      x̂ = (x − μ)/√(σ² + ε),  y = max(0, γ·x̂ + β)
 *   backward     dz = dy·1[y > 0],  dβ = Σ_r dz,  dγ = Σ_r dz·x̂,
 *                dx = γ/√(σ² + ε) · (dz − dβ/M − x̂·dγ/M)   with the batch's own μ, σ² (training),
 *                dx = γ/√(σ² + ε) · dz                      with fixed (running) μ, σ² (inference).
 *
 * The statistics are two programs: invocations over interleaved slices of the
 * M rows, each keeping (count, mean, M2) for a vector of channels, then one
 * workgroup per channel vector merging those partials with Chan et al.'s
 * parallel update. The forward is one elementwise pass; the backward one
 * reduction (dβ, dγ: partial sums, then a merge) and one elementwise pass.
 *
 * Channels go four to a lane as vec4 where C is a multiple of 4 (the encoder's
 * widths), one per lane otherwise. Sizes are baked into each program (its
 * shaderKey names them), so index arithmetic divides by constants.
 */
import * as tf from '@tensorflow/tfjs';
import { describeTensor as describe, foldDispatch, runProgram, validateActivations, webgpuBackend, withoutTape, type KernelProgram, type WebGpuBackendLike } from './webgpuProgram';

/** Invocations per workgroup: two 32-wide warps or one 64-wide wavefront on a GPU, sixteen 4-wide SIMD groups on SwiftShader. */
const WORKGROUP = 64;
/**
 * Invocations of each merge workgroup (one workgroup per channel vector): the
 * fewest, as a power of two up to 64, that leave each at most
 * MERGE_SPAN partials to merge serially before the tree. Few: on SwiftShader
 * a workgroup barrier costs more the more invocations wait at it (64 per
 * workgroup made the merge of 64 channel vectors cost 5–10 ms); enough: on a
 * GPU a serial merge of hundreds of partials by one invocation would stall.
 */
const MERGE_SPAN = 32;
export function mergeWorkgroupSize(partials: number): number {
  return Math.min(64, 2 ** Math.ceil(Math.log2(Math.ceil(partials / MERGE_SPAN))));
}
/**
 * The statistics and gradient reductions split the M rows over P partials per
 * channel vector: about TARGET_INVOCATIONS invocations in all (thousands, to
 * fill a GPU), each over at least MIN_ROWS_PER_PARTIAL rows (so the partials
 * written are a small fraction of what is read). At the default config's first
 * block (M = 512·28·28, 8 channel vectors) that is 2,048 partials of 196 rows.
 */
const TARGET_INVOCATIONS = 16384;
const MIN_ROWS_PER_PARTIAL = 32;
/**
 * Rows each invocation of the elementwise passes normalizes: its channel
 * vector's μ, σ², γ, β (and dβ, dγ) are loaded once for all of them.
 */
const ROWS_PER_INVOCATION = 8;

/** How a program walks the channel axis: vec4s of four channels where C allows, else one channel per lane. */
export interface ChannelVectors {
  /** channels per lane */
  components: 1 | 4;
  /** channel vectors per row: C/4 or C */
  groups: number;
  /** the WGSL type of one channel vector */
  type: 'vec4<f32>' | 'f32';
}

export function channelVectors(channels: number): ChannelVectors {
  return channels % 4 === 0
    ? { components: 4, groups: channels / 4, type: 'vec4<f32>' }
    : { components: 1, groups: channels, type: 'f32' };
}

/** A flat program over channel vectors (every input and the output read as vec4 where C allows): the batch-norm and pooling programs' shape. */
export function channelVectorProgram(
  shaderKey: string,
  variableNames: string[],
  outputShape: number[],
  vectors: ChannelVectors,
  workgroups: number,
  uniforms: string,
  body: string,
): KernelProgram {
  return {
    variableNames,
    outputShape,
    shaderKey,
    dispatchLayout: { x: [0] },
    dispatch: foldDispatch(workgroups),
    workgroupSize: [WORKGROUP, 1, 1],
    uniforms,
    variableComponents: variableNames.map(() => vectors.components),
    outputComponent: vectors.components,
    getUserCode: () => body,
  };
}

/** P: partials per channel vector over `rows` rows (see TARGET_INVOCATIONS). */
export function partialCount(rows: number, groups: number): number {
  return Math.max(1, Math.min(Math.ceil(rows / MIN_ROWS_PER_PARTIAL), Math.ceil(TARGET_INVOCATIONS / groups)));
}

/**
 * Statistics, stage 1: [2, P, C], the mean and M2 = Σ (x − mean)² of each
 * partial p over rows p, p + P, p + 2P, … (interleaved, so that neighbouring
 * invocations read neighbouring addresses: invocation p·G + g reads row r's
 * vector g at r·G + g; and each partial samples the whole batch, so its rows
 * spread as the channel's do). Each partial's (count n, mean, M2) comes from
 * sums shifted by its first value K (the "shifted data" algorithm: no division
 * per row, unlike Welford's update):
 *     S₁ = Σ (x − K),  S₂ = Σ (x − K)²,  mean = K + S₁/n,  M2 = S₂ − S₁²/n,
 * where S₁/n = mean − K is of the order of the spread, so the subtraction
 * keeps M2's digits. Plain float32 E[x²] − E[x]² would not: at a mean of 100
 * and unit variance, E[x²] ≈ 10⁴ leaves about three digits of the 1 that is
 * the variance (the mean-100 cases of the browser check test this).
 */
function statisticsPartialsProgram(rows: number, vectors: ChannelVectors, partials: number): KernelProgram {
  const { groups, type } = vectors;
  const body = `
    fn main(index : i32) {
      let partial = index / ${groups};
      let vector = index % ${groups};
      if (partial >= ${partials}) { return; }
      let pivot = x[partial * ${groups} + vector];
      var sum = ${type}(0.0);
      var sumSquares = ${type}(0.0);
      for (var row = partial; row < uniforms.rows; row += ${partials}) {
        let shifted = x[row * ${groups} + vector] - pivot;
        sum += shifted;
        sumSquares += shifted * shifted;
      }
      let meanShift = sum / f32((uniforms.rows - 1 - partial) / ${partials} + 1);
      result[partial * ${groups} + vector] = pivot + meanShift;
      result[(${partials} + partial) * ${groups} + vector] = max(sumSquares - sum * meanShift, ${type}(0.0));
    }`;
  return channelVectorProgram(
    `bnStatisticsPartials_${rows}_${groups}_${vectors.components}_${partials}`,
    ['x'],
    [2, partials, groups * vectors.components],
    vectors,
    Math.ceil((partials * groups) / WORKGROUP),
    'rows : i32,',
    body,
  );
}

/**
 * Statistics, stage 2: [2, C] = [μ; σ²], one workgroup per channel vector.
 * Invocation t of T (mergeWorkgroupSize) merges partials t, t + T, …, then a
 * tree over the workgroup; two sets (n_a, mean_a, M2_a), (n_b, mean_b, M2_b) merge by Chan,
 * Golub & LeVeque's parallel update:
 *     n = n_a + n_b,  δ = mean_b − mean_a,
 *     mean = mean_a + δ·n_b/n,  M2 = M2_a + M2_b + δ²·n_a·n_b/n,
 * and σ² = M2/M. Partial p holds ⌊(M − 1 − p)/P⌋ + 1 rows.
 */
function statisticsMergeProgram(rows: number, vectors: ChannelVectors, partials: number): KernelProgram {
  const { groups, type } = vectors;
  const threads = mergeWorkgroupSize(partials);
  const body = `
    var<workgroup> mergedCount : array<f32, ${threads}>;
    var<workgroup> mergedMean : array<${type}, ${threads}>;
    var<workgroup> mergedM2 : array<${type}, ${threads}>;
    fn main(index : i32) {
      let t = i32(localId.x);
      let vector = i32(workgroupId.x);
      var count = 0.0;
      var mean = ${type}(0.0);
      var m2 = ${type}(0.0);
      for (var p = t; p < ${partials}; p += ${threads}) {
        let n = f32((uniforms.rows - 1 - p) / ${partials} + 1);
        let total = count + n;
        let delta = partials[p * ${groups} + vector] - mean;
        mean += delta * (n / total);
        m2 += partials[(${partials} + p) * ${groups} + vector] + delta * delta * (count * n / total);
        count = total;
      }
      mergedCount[t] = count;
      mergedMean[t] = mean;
      mergedM2[t] = m2;
      workgroupBarrier();
      for (var half = ${Math.floor(threads / 2)}; half > 0; half = half / 2) {
        if (t < half) {
          let countA = mergedCount[t];
          let countB = mergedCount[t + half];
          let total = max(countA + countB, 1.0);
          let delta = mergedMean[t + half] - mergedMean[t];
          mergedMean[t] = mergedMean[t] + delta * (countB / total);
          mergedM2[t] = mergedM2[t] + mergedM2[t + half] + delta * delta * (countA * countB / total);
          mergedCount[t] = countA + countB;
        }
        workgroupBarrier();
      }
      if (t == 0) {
        result[vector] = mergedMean[0];
        result[${groups} + vector] = mergedM2[0] / f32(uniforms.rows);
      }
    }`;
  const channels = groups * vectors.components;
  return {
    ...channelVectorProgram(`bnStatisticsMerge_${rows}_${groups}_${vectors.components}_${partials}`, ['partials'], [2, channels], vectors, 1, 'rows : i32,', body),
    // one workgroup per channel vector (groups ≤ 65,535: validate caps C)
    dispatch: [groups, 1, 1],
    workgroupSize: [threads, 1, 1],
  };
}

/**
 * y = max(0, (x − μ)·γ/√(σ² + ε) + β), ROWS_PER_INVOCATION rows per
 * invocation (rows b, b + blocks, …: neighbouring invocations, neighbouring
 * addresses). (x − μ) first: with a mean far from 0, x·s + (β − μ·s) would
 * cancel two large terms.
 */
function forwardProgram(shape: number[], vectors: ChannelVectors): KernelProgram {
  const { groups, type } = vectors;
  const rows = shape[0] * shape[1] * shape[2];
  const blocks = Math.ceil(rows / ROWS_PER_INVOCATION);
  const body = `
    fn main(index : i32) {
      let block = index / ${groups};
      let vector = index % ${groups};
      if (block >= ${blocks}) { return; }
      let mean = statistics[vector];
      let scale = gamma[vector] * inverseSqrt(statistics[${groups} + vector] + uniforms.epsilon);
      let shift = beta[vector];
      for (var k = 0; k < ${ROWS_PER_INVOCATION}; k++) {
        let row = block + k * ${blocks};
        if (row < ${rows}) {
          let i = row * ${groups} + vector;
          result[i] = max((x[i] - mean) * scale + shift, ${type}(0.0));
        }
      }
    }`;
  return channelVectorProgram(
    `bnReluForward_${rows}_${groups}_${vectors.components}`,
    ['x', 'statistics', 'gamma', 'beta'],
    shape,
    vectors,
    Math.ceil((blocks * groups) / WORKGROUP),
    'epsilon : f32,',
    body,
  );
}

/**
 * Backward, stage 1: [2, P, C], per partial (rows as the statistics) Σ dz and
 * Σ dz·x̂, with dz = dy·1[y > 0] and y recomputed from x exactly as the
 * forward computes it (so the mask is the forward's).
 */
function gradientPartialsProgram(rows: number, vectors: ChannelVectors, partials: number): KernelProgram {
  const { groups, type } = vectors;
  const body = `
    fn main(index : i32) {
      let partial = index / ${groups};
      let vector = index % ${groups};
      if (partial >= ${partials}) { return; }
      let mean = statistics[vector];
      let inverseStd = inverseSqrt(statistics[${groups} + vector] + uniforms.epsilon);
      let scale = gamma[vector] * inverseStd;
      let shift = beta[vector];
      var sumDz = ${type}(0.0);
      var sumDzXHat = ${type}(0.0);
      for (var row = partial; row < ${rows}; row += ${partials}) {
        let i = row * ${groups} + vector;
        let centered = x[i] - mean;
        let dz = select(${type}(0.0), dy[i], centered * scale + shift > ${type}(0.0));
        sumDz += dz;
        sumDzXHat += dz * (centered * inverseStd);
      }
      result[partial * ${groups} + vector] = sumDz;
      result[(${partials} + partial) * ${groups} + vector] = sumDzXHat;
    }`;
  return channelVectorProgram(
    `bnReluGradientPartials_${rows}_${groups}_${vectors.components}_${partials}`,
    ['x', 'dy', 'statistics', 'gamma', 'beta'],
    [2, partials, groups * vectors.components],
    vectors,
    Math.ceil((partials * groups) / WORKGROUP),
    'epsilon : f32,',
    body,
  );
}

/**
 * Backward, stage 2: [C], the sum over the P partials of one of the two
 * (`which` 0: dβ = Σ dz, 1: dγ = Σ dz·x̂), one workgroup of mergeWorkgroupSize
 * per channel vector (strided sums, then a tree).
 */
function gradientMergeProgram(vectors: ChannelVectors, partials: number, which: 0 | 1): KernelProgram {
  const { groups, type } = vectors;
  const threads = mergeWorkgroupSize(partials);
  const body = `
    var<workgroup> mergedSum : array<${type}, ${threads}>;
    fn main(index : i32) {
      let t = i32(localId.x);
      let vector = i32(workgroupId.x);
      var sum = ${type}(0.0);
      for (var p = t; p < uniforms.partials; p += ${threads}) {
        sum += partials[(${which * partials} + p) * ${groups} + vector];
      }
      mergedSum[t] = sum;
      workgroupBarrier();
      for (var half = ${Math.floor(threads / 2)}; half > 0; half = half / 2) {
        if (t < half) { mergedSum[t] = mergedSum[t] + mergedSum[t + half]; }
        workgroupBarrier();
      }
      if (t == 0) { result[vector] = mergedSum[0]; }
    }`;
  return {
    ...channelVectorProgram(`bnReluGradientMerge_${groups}_${vectors.components}_${partials}_${which}`, ['partials'], [groups * vectors.components], vectors, 1, 'partials : i32,', body),
    dispatch: [groups, 1, 1],
    workgroupSize: [threads, 1, 1],
  };
}

/**
 * Backward, stage 3: dx [M, C]. Training (statistics from the batch):
 *     dx = s·(dz − dβ/M − x̂·dγ/M),  s = γ/√(σ² + ε)
 * (the last two terms are the paths through μ and σ²); inference: dx = s·dz.
 */
function inputGradientProgram(shape: number[], vectors: ChannelVectors, statisticsFromBatch: boolean): KernelProgram {
  const { groups, type } = vectors;
  const rows = shape[0] * shape[1] * shape[2];
  const blocks = Math.ceil(rows / ROWS_PER_INVOCATION);
  const inputs = ['x', 'dy', 'statistics', 'gamma', 'beta', ...(statisticsFromBatch ? ['dBeta', 'dGamma'] : [])];
  const body = `
    fn main(index : i32) {
      let block = index / ${groups};
      let vector = index % ${groups};
      if (block >= ${blocks}) { return; }
      let mean = statistics[vector];
      let inverseStd = inverseSqrt(statistics[${groups} + vector] + uniforms.epsilon);
      let scale = gamma[vector] * inverseStd;
      let shift = beta[vector];
      ${statisticsFromBatch ? `let meanDz = dBeta[vector] / ${rows}.0;\n      let meanDzXHat = dGamma[vector] / ${rows}.0;` : ''}
      for (var k = 0; k < ${ROWS_PER_INVOCATION}; k++) {
        let row = block + k * ${blocks};
        if (row < ${rows}) {
          let i = row * ${groups} + vector;
          let centered = x[i] - mean;
          let dz = select(${type}(0.0), dy[i], centered * scale + shift > ${type}(0.0));
          ${statisticsFromBatch ? 'result[i] = scale * (dz - meanDz - centered * inverseStd * meanDzXHat);' : 'result[i] = scale * dz;'}
        }
      }
    }`;
  return channelVectorProgram(
    `bnReluInputGradient_${rows}_${groups}_${vectors.components}_${statisticsFromBatch ? 'batch' : 'fixed'}`,
    inputs,
    shape,
    vectors,
    Math.ceil((blocks * groups) / WORKGROUP),
    'epsilon : f32,',
    body,
  );
}

/** The largest channel count: one merge workgroup per channel vector, at most 65,535 along a dispatch dimension. */
const MAX_CHANNELS = 65535;

/**
 * Per channel, the mean and the biased variance of x over its B·H·W rows:
 * [2, C] = [μ; σ²], as tf.moments(x, [0, 1, 2]). Not differentiable: it makes
 * no tape entry, so gradients see the result as a constant (batchNormRelu with
 * statisticsFromBatch carries the path through μ, σ² itself). Webgpu only.
 */
export function batchNormStatistics(x: tf.Tensor4D): tf.Tensor2D {
  const caller = 'batchNormStatistics';
  validateActivations(caller, x, MAX_CHANNELS);
  const backend = webgpuBackend(caller);
  return withoutTape(() => statisticsOf(backend, x));
}

function statisticsOf(backend: WebGpuBackendLike, x: tf.Tensor4D): tf.Tensor2D {
  const rows = x.shape[0] * x.shape[1] * x.shape[2];
  const vectors = channelVectors(x.shape[3]);
  const partials = partialCount(rows, vectors.groups);
  const rowsUniform = [{ type: 'int32' as const, data: [rows] }];
  const stage1 = runProgram(backend, statisticsPartialsProgram(rows, vectors, partials), [x], rowsUniform);
  const statistics = runProgram(backend, statisticsMergeProgram(rows, vectors, partials), [stage1], rowsUniform);
  stage1.dispose();
  return statistics as tf.Tensor2D;
}

/**
 * y = max(0, γ·(x − μ)/√(σ² + ε) + β) with statistics = [μ; σ²] ([2, C]),
 * in one pass: tf.relu(tf.batchNorm(x, μ, σ², β, γ, ε)). Differentiable
 * (tf.customGrad) with respect to x, statistics, γ and β:
 * - statisticsFromBatch = true (training: statistics = batchNormStatistics(x),
 *   the batch's own): dx carries the paths through μ and σ², as the gradient
 *   of tf.moments would;
 * - false (inference on running statistics): dx = γ/√(σ² + ε)·dy·1[y > 0].
 * The gradient returned for `statistics` is zeros in both modes. Webgpu only.
 *
 * @example
 * ```ts
 * const statistics = batchNormStatistics(conv);            // [2, C], a constant for the tape
 * const a = batchNormRelu(conv, statistics, gamma, beta, 1e-5, true);
 * ```
 */
export function batchNormRelu(
  x: tf.Tensor4D,
  statistics: tf.Tensor2D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  epsilon: number,
  statisticsFromBatch: boolean,
): tf.Tensor4D {
  const caller = 'batchNormRelu';
  validateActivations(caller, x, MAX_CHANNELS);
  const channels = x.shape[3];
  const expectShape = (name: string, t: tf.Tensor, shape: number[]) => {
    if (!tf.util.arraysEqual(t.shape, shape) || t.dtype !== 'float32') {
      throw new Error(`${caller}: ${name} must be [${shape.join(', ')}] float32 for x ${describe(x)}, got ${describe(t)}`);
    }
  };
  expectShape('statistics ([mean; variance])', statistics, [2, channels]);
  expectShape('gamma', gamma, [channels]);
  expectShape('beta', beta, [channels]);
  if (!Number.isFinite(epsilon) || epsilon < 0) throw new Error(`${caller}: epsilon must be finite and ≥ 0, got ${epsilon}`);
  const backend = webgpuBackend(caller);

  const [b, h, w] = x.shape;
  const rows = b * h * w;
  const vectors = channelVectors(channels);
  const epsilonUniform = [{ type: 'float32' as const, data: [epsilon] }];
  const normalize = tf.customGrad((xIn, statisticsIn, gammaIn, betaIn, saveArg) => {
    const save = saveArg as tf.GradSaveFunc;
    const inputs = [xIn, statisticsIn, gammaIn, betaIn] as tf.Tensor[];
    save(inputs);
    const y = runProgram(backend, forwardProgram(x.shape, vectors), inputs, epsilonUniform);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xSaved, statisticsSaved, gammaSaved, betaSaved] = saved;
        const partials = partialCount(rows, vectors.groups);
        const sums = runProgram(
          backend,
          gradientPartialsProgram(rows, vectors, partials),
          [xSaved, dy, statisticsSaved, gammaSaved, betaSaved],
          epsilonUniform,
        );
        const partialsUniform = [{ type: 'int32' as const, data: [partials] }];
        const dBeta = runProgram(backend, gradientMergeProgram(vectors, partials, 0), [sums], partialsUniform);
        const dGamma = runProgram(backend, gradientMergeProgram(vectors, partials, 1), [sums], partialsUniform);
        sums.dispose();
        const dx = runProgram(
          backend,
          inputGradientProgram(x.shape, vectors, statisticsFromBatch),
          [xSaved, dy, statisticsSaved, gammaSaved, betaSaved, ...(statisticsFromBatch ? [dBeta, dGamma] : [])],
          epsilonUniform,
        );
        return [dx, tf.zerosLike(statisticsSaved), dGamma, dBeta];
      },
    };
  });
  return normalize(x, statistics, gamma, beta) as tf.Tensor4D;
}
