/**
 * NT-Xent as purpose-built WebGPU compute programs (WGSL), run through
 * tfjs-backend-webgpu on the same GPUDevice as the rest of training, with no
 * read-back to the CPU. Same meaning as {@link ntXent} in ./ntxent.ts (the
 * op-composed reference): see its comment for the formulas and conventions
 * (rows concatenated, positive(i) = (i + N) mod 2N, ‖z‖ clamped at 1e-12).
 *
 * The op-composed path writes and reads the 2N×2N matrix about twenty times
 * (matMul, mask, divide, max, subtract, exp, sum, log, their gradients).
 * Here s is computed once, from half its pairs, and read twice:
 *
 *  1. pack        one row per thread: ‖z_i‖², ẑ_i = z_i/max(‖z_i‖, 1e-12)
 *                 (or z_i unscaled), ẑ transposed, the inverse norm and the clamp flag.
 *  2. affinity    s = ẐẐᵀ, only the blocks on and above the diagonal (s is
 *                 symmetric), each mirrored; register-tiled 8×8 per thread.
 *                 The heatmap's matrix is this output.
 *  3. row stats   one anchor i per thread, one pass over its row: an online
 *                 max-subtracted log-sum-exp over k ≠ i
 *                     lse_i = m_i + log Σ_{k≠i} exp(s_ik/τ − m_i),
 *                 the positive's logit, the argmax (contrastive accuracy),
 *                 and the positive and negative cosines.
 *  4. reduce      L = 1/(2N) Σ_i (lse_i − s_{i,p(i)}/τ), and the step metrics.
 *  5. weights     ∂L/∂s_ik = (P_ik − 1[k = p(i)]) / (2Nτ),  P_ik = exp(s_ik/τ − lse_i);
 *                 s is symmetric, so ∂L/∂ẑ_i = Σ_{k≠i} (∂L/∂s_ik + ∂L/∂s_ki) ẑ_k
 *                                           = 1/(2Nτ) Σ_k W_ik ẑ_k,
 *                 W_ik = P_ik + P_ki − 2·1[k = p(i)] (0 on the diagonal).
 *  6. weighted    G = W·Ẑ, register-tiled 8×8 per thread.
 *     sum
 *  7. normalization gradient   one row per thread, g = G_i/(2Nτ), then through
 *                 ẑ = z·r, r = ‖z‖⁻¹:  ∂L/∂z_i = r (g − ẑ_i (ẑ_i·g))
 *                 (just r·g where the norm was clamped, as the clamp passes no
 *                 gradient to ‖z‖; just g without normalization).
 *
 * Why this shape: on SwiftShader (a CPU Vulkan, where each invocation is one
 * SIMD lane) the cost is loads, lane by lane, and workgroup barriers; the
 * earlier design (a workgroup per 8 anchors sharing rows through workgroup
 * memory, online log-sum-exp inside the product loop) ran 2.4× slower.
 * No program uses workgroup memory except the one-workgroup reduce.
 *
 * Wrapped in tf.customGrad, so it drops into optimizer.minimize / variableGrads.
 */
import * as tf from '@tensorflow/tfjs';
import { validateInputs, type NtXentOptions } from './ntxent';
import { runProgram, type KernelProgram, type ProgramUniform, type WebGpuBackendLike } from '../model/kernels/webgpuProgram';

/** Threads per workgroup; 2N need not be a multiple of it. */
const WORKGROUP = 64;
/**
 * Columns of the per-anchor statistics the row-statistics program writes:
 * lse_i, positive logit, argmax == positive (0/1), positive cosine,
 * Σ negative cosines, row max logit, two spare.
 */
const STAT_COLUMNS = 8;
/** Extra columns after ẑ_i in the packed rows: cosine factor, inverse norm r_i, clamped flag. */
const PACK_EXTRA = 3;
/** The widest z the fused path takes: the range verified against the float64 reference (and the widest projection the config allows). */
export const MAX_FUSED_DIM = 512;
/** ‖z‖² is clamped to at least (1e-12)², as in ./ntxent.ts. */
const MIN_SQUARED_NORM = '1e-24';

/** A WGSL program as tfjs-backend-webgpu runs it (the encoder's kernels share the type). */
type FusedProgram = KernelProgram;

function program(
  shaderKey: string,
  variableNames: string[],
  outputShape: number[],
  workgroups: number,
  uniforms: string,
  body: string,
): FusedProgram {
  return {
    variableNames,
    outputShape,
    shaderKey,
    dispatchLayout: { x: outputShape.map((_, i) => i) },
    dispatch: [workgroups, 1, 1],
    workgroupSize: [WORKGROUP, 1, 1],
    uniforms,
    getUserCode: () => body,
  };
}

/** Sums `name[0..WORKGROUP)` into name[0]; every thread of the workgroup must call it. */
function treeSum(name: string): string {
  return `
    for (var half = ${WORKGROUP / 2}; half > 0; half = half / 2) {
      if (t < half) { ${name}[t] = ${name}[t] + ${name}[t + half]; }
      workgroupBarrier();
    }`;
}

/**
 * Where the transposed copy of ẑ starts in the packed buffer. The buffer holds
 * the 2N rows [ẑ_i (d) | cosine factor | r_i | clamped] (stride d + 3), then ẑ
 * again transposed, ẑᵀ[c][k] at transposedOffset + c·2N + k: in the loops over
 * candidates k, neighbouring invocations (SIMD lanes on a CPU Vulkan, a warp
 * on a GPU) then read neighbouring addresses instead of rows d apart.
 */
function transposedOffset(twoN: number, d: number): number {
  return twoN * (d + PACK_EXTRA);
}

/**
 * Program 1: the packed buffer (see transposedOffset) for the 2N rows of
 * concat(z1, z2), one row per thread: no workgroup barriers, which cost a CPU
 * Vulkan more than this program's arithmetic.
 */
function packProgram(n: number, d: number): FusedProgram {
  const body = `
    fn nxInput(row : i32, c : i32) -> f32 {
      if (row < ${n}) { return za[row * ${d} + c]; }
      return zb[(row - ${n}) * ${d} + c];
    }
    fn main(index : i32) {
      let row = index;
      // (the uniform is read so that its binding survives layout 'auto')
      if (row >= ${2 * n} || uniforms.outShape < 0) { return; }
      var squaredNorm = 0.0;
      for (var c = 0; c < ${d}; c++) { let v = nxInput(row, c); squaredNorm += v * v; }
      let inverseNorm = inverseSqrt(max(squaredNorm, ${MIN_SQUARED_NORM}));
      let scale = select(1.0, inverseNorm, uniforms.normalize != 0);
      let out = row * ${d + PACK_EXTRA};
      for (var c = 0; c < ${d}; c++) {
        let value = nxInput(row, c) * scale;
        result[out + c] = value;
        result[${transposedOffset(2 * n, d)} + c * ${2 * n} + row] = value;
      }
      // cosine(i, k) = s_ik · factor_i · factor_k: s is already a cosine when normalized
      result[out + ${d}] = select(inverseNorm, 1.0, uniforms.normalize != 0);
      result[out + ${d + 1}] = inverseNorm;
      result[out + ${d + 2}] = select(0.0, 1.0, squaredNorm < ${MIN_SQUARED_NORM});
    }`;
  const length = transposedOffset(2 * n, d) + d * 2 * n;
  return program(`ntxentPack_${n}_${d}`, ['za', 'zb'], [length], Math.ceil((2 * n) / WORKGROUP), 'normalize : i32,', body);
}

/**
 * Rows and columns of the block of s (or of ∂L/∂ẑ) that one thread computes.
 * A CPU Vulkan (SwiftShader) runs each invocation as one SIMD lane and pays
 * for every load lane by lane, so the programs are register-tiled: a T×T
 * block costs 2T loads per step for T² multiply-adds.
 */
const TILE = 8;

/**
 * WGSL pieces of one thread's TILE×TILE register tile: accumulators
 * `${name}${r}_${q}` for TILE rows r and TILE/4 vec4s q of columns.
 */
const registerTile = {
  rows: Array.from({ length: TILE }, (_, r) => r),
  quads: Array.from({ length: TILE / 4 }, (_, q) => q),
  declare(name: string): string {
    return this.rows.map((r) => this.quads.map((q) => `var ${name}${r}_${q} = vec4<f32>(0.0);`).join(' ')).join('\n      ');
  },
  /** one step: acc[r][column] += rowValue(r) · columnValue(column), TILE + TILE loads, TILE² multiply-adds */
  accumulate(name: string, rowValue: (r: number) => string, columnValue: (column: number) => string): string {
    return [
      ...this.rows.map((r) => `let ${name}Row${r} = ${rowValue(r)};`),
      ...this.quads.map(
        (q) => `let ${name}Columns${q} = vec4<f32>(${[0, 1, 2, 3].map((l) => columnValue(4 * q + l)).join(', ')});`,
      ),
      ...this.rows.map((r) => this.quads.map((q) => `${name}${r}_${q} += ${name}Row${r} * ${name}Columns${q};`).join(' ')),
    ].join('\n        ');
  },
  /** `write(row, column, value)` for each in-bounds entry: rows row0 + r < rowLimit, columns column0 + j < columnLimit */
  store(name: string, row0: string, rowLimit: number, column0: string, columnLimit: number, write: (row: string, column: string, value: string) => string): string {
    return this.rows
      .map(
        (r) => `if (${row0} + ${r} < ${rowLimit}) {
        ${this.quads
          .map(
            (q) => `for (var l = 0; l < 4; l++) {
          let column = ${column0} + ${4 * q} + l;
          if (column < ${columnLimit}) { ${write(`${row0} + ${r}`, 'column', `${name}${r}_${q}[l]`)} }
        }`,
          )
          .join('\n        ')}
      }`,
      )
      .join('\n      ');
  },
};

/**
 * Program 2: the affinity matrix s = ẐẐᵀ, [2N, 2N], each pair computed once:
 * s is symmetric, so only the TILE×TILE blocks (I, K) with I ≤ K are computed,
 * each written at (I, K) and mirrored at (K, I): half the multiply-adds of the
 * full product. Each thread takes one block, reading TILE anchor and TILE
 * candidate values of ẑᵀ per column (see transposedOffset). Read by the row
 * statistics, the backward programs and the heatmap.
 */
function affinityProgram(twoN: number, d: number): FusedProgram {
  const transposed = transposedOffset(twoN, d);
  const blocks = Math.ceil(twoN / TILE);
  const body = `
    fn main(index : i32) {
      let blockI = index / ${blocks};
      let blockK = index % ${blocks};
      // (the uniform is read so that its binding survives layout 'auto')
      if (blockI >= ${blocks} || blockK < blockI || uniforms.outShape.x < 0) { return; }
      let i0 = blockI * ${TILE};
      let k0 = blockK * ${TILE};
      ${registerTile.declare('s')}
      for (var c = 0; c < ${d}; c++) {
        let column = ${transposed} + c * ${twoN};
        ${registerTile.accumulate(
          's',
          (r) => `packed[column + min(i0 + ${r}, ${twoN - 1})]`,
          (j) => `packed[column + min(k0 + ${j}, ${twoN - 1})]`,
        )}
      }
      ${registerTile.store('s', 'i0', twoN, 'k0', twoN, (i, k, value) => `result[(${i}) * ${twoN} + ${k}] = ${value}; result[${k} * ${twoN} + ${i}] = ${value};`)}
    }`;
  return program(`ntxentAffinity_${twoN}_${d}`, ['packed'], [twoN, twoN], Math.ceil((blocks * blocks) / WORKGROUP), '', body);
}

/**
 * Program 3: per-anchor statistics [2N, STAT_COLUMNS] from the rows of s, one
 * anchor i per thread and one pass over k: an online max-subtracted
 * log-sum-exp over k ≠ i
 *     lse_i = m_i + log Σ_{k≠i} exp(s_ik/τ − m_i),
 * the positive's logit, the argmax (contrastive accuracy), and the positive
 * and negative cosines. It reads s_ik as s_ki (s is symmetric): neighbouring
 * threads then read neighbouring addresses. No workgroup barriers.
 */
function rowStatisticsProgram(twoN: number, d: number): FusedProgram {
  const stride = d + PACK_EXTRA;
  const lowest = '-3.0e38'; // below any logit, and exp(lowest − x) is 0 without needing −∞
  const body = `
    fn main(index : i32) {
      let anchor = index;
      if (anchor >= ${twoN}) { return; }
      let positive = (anchor + ${twoN / 2}) % ${twoN};
      // cosine(i, k) = s_ik · factor_i · factor_k
      let anchorFactor = packed[anchor * ${stride} + ${d}];
      var runningMax = ${lowest};
      var runningSum = 0.0;
      var best = ${lowest};
      var bestIndex = ${twoN};
      var positiveCosine = 0.0;
      var negativeCosine = 0.0;
      for (var k = 0; k < ${twoN}; k++) {
        if (k == anchor) { continue; }
        let s = affinity[k * ${twoN} + anchor];
        let logit = s * uniforms.inverseTemperature;
        // online log-sum-exp: keep Σ exp(logit − runningMax) as the max moves
        if (logit > runningMax) {
          runningSum = runningSum * exp(runningMax - logit) + 1.0;
          runningMax = logit;
        } else {
          runningSum += exp(logit - runningMax);
        }
        // argmax over k ≠ i, the lowest index winning ties (as tf.argMax)
        if (s > best) { best = s; bestIndex = k; }
        let cosine = s * anchorFactor * packed[k * ${stride} + ${d}];
        if (k == positive) { positiveCosine = cosine; } else { negativeCosine += cosine; }
      }
      let out = anchor * ${STAT_COLUMNS};
      result[out] = runningMax + log(runningSum);
      result[out + 1] = affinity[positive * ${twoN} + anchor] * uniforms.inverseTemperature;
      result[out + 2] = select(0.0, 1.0, bestIndex == positive);
      result[out + 3] = positiveCosine;
      result[out + 4] = negativeCosine;
      result[out + 5] = runningMax;
      result[out + 6] = 0.0;
      result[out + 7] = 0.0;
    }`;
  return program(
    `ntxentRowStatistics_${twoN}_${d}`,
    ['packed', 'affinity'],
    [twoN, STAT_COLUMNS],
    Math.ceil(twoN / WORKGROUP),
    'inverseTemperature : f32,',
    body,
  );
}

/**
 * Program 4: one workgroup reduces the statistics to
 * [L, mean positive cosine, mean negative cosine, contrastive accuracy].
 */
function reduceProgram(twoN: number): FusedProgram {
  const negativePairs = Math.max(twoN * (twoN - 2), 1); // 2N(2N−2); 0 when N = 1, reported as 0
  const body = `
    var<workgroup> nxLoss : array<f32, ${WORKGROUP}>;
    var<workgroup> nxPositive : array<f32, ${WORKGROUP}>;
    var<workgroup> nxNegative : array<f32, ${WORKGROUP}>;
    var<workgroup> nxCorrect : array<f32, ${WORKGROUP}>;
    fn main(index : i32) {
      let t = i32(localId.x);
      var loss = 0.0;
      var positive = 0.0;
      var negative = 0.0;
      var correct = 0.0;
      // (reads the row count from the uniforms: a shader that uses no uniform loses their binding under layout 'auto')
      for (var i = t; i < uniforms.statsShape.x; i += ${WORKGROUP}) {
        let row = i * ${STAT_COLUMNS};
        loss += stats[row] - stats[row + 1];
        correct += stats[row + 2];
        positive += stats[row + 3];
        negative += stats[row + 4];
      }
      nxLoss[t] = loss;
      nxPositive[t] = positive;
      nxNegative[t] = negative;
      nxCorrect[t] = correct;
      workgroupBarrier();
      ${['nxLoss', 'nxPositive', 'nxNegative', 'nxCorrect'].map(treeSum).join('\n')}
      if (t == 0) {
        result[0] = nxLoss[0] / ${twoN}.0;
        result[1] = nxPositive[0] / ${twoN}.0;
        result[2] = nxNegative[0] / ${negativePairs}.0;
        result[3] = nxCorrect[0] / ${twoN}.0;
      }
    }`;
  return program(`ntxentReduce_${twoN}`, ['stats'], [4], 1, '', body);
}

/**
 * Program 5: the symmetric weights of the backward pass, [2N, 2N]:
 *     W_ik = P_ik + P_ki − 2·1[k = p(i)],  P_ik = exp(s_ik/τ − lse_i),  W_ii = 0,
 * so that ∂L/∂ẑ_i = 1/(2Nτ) Σ_k W_ik ẑ_k (s is symmetric: ∂L/∂s_ik and
 * ∂L/∂s_ki both reach ẑ_i). One anchor i per thread, writing column i (W is
 * symmetric): neighbouring threads touch neighbouring addresses.
 */
function weightsProgram(twoN: number): FusedProgram {
  const body = `
    fn main(index : i32) {
      let anchor = index;
      if (anchor >= ${twoN}) { return; }
      let positive = (anchor + ${twoN / 2}) % ${twoN};
      let lseI = stats[anchor * ${STAT_COLUMNS}];
      for (var k = 0; k < ${twoN}; k++) {
        let logit = affinity[k * ${twoN} + anchor] * uniforms.inverseTemperature;
        let weight = exp(logit - lseI) + exp(logit - stats[k * ${STAT_COLUMNS}]) - select(0.0, 2.0, k == positive);
        result[k * ${twoN} + anchor] = select(weight, 0.0, k == anchor);
      }
    }`;
  return program(`ntxentWeights_${twoN}`, ['affinity', 'stats'], [twoN, twoN], Math.ceil(twoN / WORKGROUP), 'inverseTemperature : f32,', body);
}

/**
 * Program 6: G = W·Ẑ, [2N, d] (∂L/∂ẑ before the 1/(2Nτ) scale), one
 * TILE×TILE block of G per thread: per candidate k, TILE weights W_ki (= W_ik)
 * and TILE values of ẑ_k feed TILE² multiply-adds.
 */
function weightedSumProgram(twoN: number, d: number): FusedProgram {
  const stride = d + PACK_EXTRA;
  const rowBlocks = Math.ceil(twoN / TILE);
  const columnBlocks = Math.ceil(d / TILE);
  const body = `
    fn main(index : i32) {
      let blockI = index / ${columnBlocks};
      let blockC = index % ${columnBlocks};
      // (the uniform is read so that its binding survives layout 'auto')
      if (blockI >= ${rowBlocks} || uniforms.outShape.x < 0) { return; }
      let i0 = blockI * ${TILE};
      let c0 = blockC * ${TILE};
      ${registerTile.declare('g')}
      for (var k = 0; k < ${twoN}; k++) {
        let weightRow = k * ${twoN};
        let row = k * ${stride};
        ${registerTile.accumulate(
          'g',
          (r) => `weights[weightRow + min(i0 + ${r}, ${twoN - 1})]`,
          (j) => `packed[row + min(c0 + ${j}, ${d - 1})]`,
        )}
      }
      ${registerTile.store('g', 'i0', twoN, 'c0', d, (i, c, value) => `result[(${i}) * ${d} + ${c}] = ${value};`)}
    }`;
  return program(
    `ntxentWeightedSum_${twoN}_${d}`,
    ['weights', 'packed'],
    [twoN, d],
    Math.ceil((rowBlocks * columnBlocks) / WORKGROUP),
    '',
    body,
  );
}

/**
 * Program 7: ∂L/∂z for the 2N rows of concat(z1, z2), [2N, d], one row per
 * thread: g = dy/(2Nτ) · G_i, then through the normalization ẑ = z·r:
 *     ∂L/∂z_i = r (g − ẑ_i (ẑ_i·g))
 * (r·g where the norm was clamped; g without normalization).
 */
function normalizationGradientProgram(twoN: number, d: number): FusedProgram {
  const stride = d + PACK_EXTRA;
  const body = `
    fn main(index : i32) {
      let row = index;
      if (row >= ${twoN}) { return; }
      let scale = dy[0] * uniforms.inverseTemperature / ${twoN}.0;
      let out = row * ${d};
      let zRow = row * ${stride};
      if (uniforms.normalize == 0) {
        for (var c = 0; c < ${d}; c++) { result[out + c] = weighted[out + c] * scale; }
        return;
      }
      let inverseNorm = packed[zRow + ${d + 1}];
      let clamped = packed[zRow + ${d + 2}] > 0.5;
      var projection = 0.0;
      for (var c = 0; c < ${d}; c++) { projection += weighted[out + c] * scale * packed[zRow + c]; }
      if (clamped) { projection = 0.0; }
      for (var c = 0; c < ${d}; c++) {
        result[out + c] = inverseNorm * (weighted[out + c] * scale - packed[zRow + c] * projection);
      }
    }`;
  return program(
    `ntxentNormalizationGradient_${twoN}_${d}`,
    ['weighted', 'packed', 'dy'],
    [twoN, d],
    Math.ceil(twoN / WORKGROUP),
    'inverseTemperature : f32, normalize : i32,',
    body,
  );
}

function webgpuBackend(caller: string): WebGpuBackendLike {
  const name = tf.getBackend();
  if (name !== 'webgpu') {
    throw new Error(
      `${caller} runs WGSL compute programs and needs the webgpu backend; the active backend is ${name}. Use ntXent (the op-composed loss) instead.`,
    );
  }
  return tf.backend() as unknown as WebGpuBackendLike;
}

function run(
  backend: WebGpuBackendLike,
  fused: FusedProgram,
  inputs: tf.Tensor[],
  uniforms: { type: string; data: number[] }[] = [],
): tf.Tensor {
  // as a named engine kernel (src/model/kernels/webgpuProgram.ts): tf.profile then times each program by its name
  return runProgram(backend, fused, inputs, uniforms as ProgramUniform[]);
}

/** ntXent's checks, plus what the kernels need: d ≤ MAX_FUSED_DIM and float32. */
function validate(caller: string, z1: tf.Tensor, z2: tf.Tensor, opts: NtXentOptions): void {
  validateInputs(z1, z2, opts, caller);
  const d = z1.shape[1] as number;
  if (d > MAX_FUSED_DIM) {
    throw new Error(`${caller}: the fused kernels handle d ≤ ${MAX_FUSED_DIM}, got d = ${d}; use ntXent for wider projections`);
  }
  if (z1.dtype !== 'float32' || z2.dtype !== 'float32') throw new Error(`${caller}: z1 and z2 must be float32`);
}

/** What {@link ntXentFusedWithMetrics} returns; the caller disposes the tensors. */
export interface FusedNtXentResult {
  loss: tf.Scalar;
  /** [meanPositiveCosine, meanNegativeCosine, contrastiveAccuracy], as ntXentWithMetrics */
  metrics: tf.Tensor1D;
  /** s, 2N×2N, only when asked for (`withAffinity`), else null */
  affinityMatrix: tf.Tensor2D | null;
}

/**
 * NT-Xent on the fused WebGPU programs, plus the step metrics and (if asked)
 * the affinity matrix, all from the one forward pass. Differentiable with
 * respect to z1 and z2 (tf.customGrad). Throws on any backend but webgpu.
 *
 * @example
 * ```ts
 * let metrics: tf.Tensor1D | undefined;
 * const { value, grads } = tf.variableGrads(() => {
 *   const out = ntXentFusedWithMetrics(z1Of(batch), z2Of(batch), { temperature: 0.5, normalize: true });
 *   metrics = tf.keep(out.metrics);
 *   return out.loss;
 * });
 * ```
 */
export function ntXentFusedWithMetrics(
  z1: tf.Tensor2D,
  z2: tf.Tensor2D,
  opts: NtXentOptions,
  { withAffinity = false }: { withAffinity?: boolean } = {},
): FusedNtXentResult {
  const caller = 'ntXentFused';
  validate(caller, z1, z2, opts);
  const backend = webgpuBackend(caller);
  const [n, d] = z1.shape;
  const twoN = 2 * n;
  const normalize = opts.normalize ? 1 : 0;
  const inverseTemperature = 1 / opts.temperature;

  let metrics: tf.Tensor1D | undefined;
  let affinityMatrix: tf.Tensor2D | null = null;
  const lossOf = tf.customGrad((a, b, saveArg) => {
    const save = saveArg as tf.GradSaveFunc;
    const packed = run(backend, packProgram(n, d), [a as tf.Tensor, b as tf.Tensor], [{ type: 'int32', data: [normalize] }]);
    const affinity = run(backend, affinityProgram(twoN, d), [packed]);
    const stats = run(backend, rowStatisticsProgram(twoN, d), [packed, affinity], [
      { type: 'float32', data: [inverseTemperature] },
    ]);
    const reduced = run(backend, reduceProgram(twoN), [stats]);
    // metrics and the matrix leave this tidy scope (a clone shares the GPU buffer); the loss is its value
    metrics = tf.keep(tf.slice(reduced, [1], [3]) as tf.Tensor1D);
    if (withAffinity) affinityMatrix = tf.keep(tf.clone(affinity) as tf.Tensor2D);
    save([packed, affinity, stats]);
    const value = tf.reshape(tf.slice(reduced, [0], [1]), []) as tf.Scalar;
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [savedPacked, savedAffinity, savedStats] = saved;
        const weights = run(backend, weightsProgram(twoN), [savedAffinity, savedStats], [
          { type: 'float32', data: [inverseTemperature] },
        ]);
        const weighted = run(backend, weightedSumProgram(twoN, d), [weights, savedPacked]);
        const dz = run(backend, normalizationGradientProgram(twoN, d), [weighted, savedPacked, tf.reshape(dy, [1])], [
          { type: 'float32', data: [inverseTemperature] },
          { type: 'int32', data: [normalize] },
        ]);
        return [tf.slice(dz, [0, 0], [n, d]), tf.slice(dz, [n, 0], [n, d])];
      },
    };
  });
  const loss = lossOf(z1, z2) as tf.Scalar;
  return { loss, metrics: metrics!, affinityMatrix };
}

/**
 * `ntXentFused(z1, z2, opts)`: the NT-Xent loss with exactly {@link ntXent}'s
 * meaning, on the fused WebGPU programs. Throws a clear error on any backend
 * other than webgpu.
 */
export function ntXentFused(z1: tf.Tensor2D, z2: tf.Tensor2D, opts: { temperature: number; normalize: boolean }): tf.Scalar {
  const { loss, metrics } = ntXentFusedWithMetrics(z1, z2, opts);
  metrics.dispose();
  return loss;
}
