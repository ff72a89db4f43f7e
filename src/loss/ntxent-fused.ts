/**
 * NT-Xent as purpose-built WebGPU compute programs (WGSL), run through
 * tfjs-backend-webgpu on the same GPUDevice as the rest of training, with no
 * read-back to the CPU. Same meaning as {@link ntXent} in ./ntxent.ts (the
 * op-composed reference): see its comment for the formulas and conventions
 * (rows concatenated, positive(i) = (i + N) mod 2N, ‖z‖ clamped at 1e-12).
 *
 * The op-composed path writes and reads the 2N×2N matrix about twenty times
 * (matMul, mask, divide, max, subtract, exp, sum, log, their gradients).
 * Here the matrix is never stored (except on request, for the heatmap):
 *
 *  1. pack      one workgroup per row: ‖z_i‖², ẑ_i = z_i/max(‖z_i‖, 1e-12)
 *               (or z_i unscaled), the inverse norm and the clamp flag.
 *  2. forward   one workgroup per anchor i: s_ik = ẑ_i·ẑ_k for every k,
 *               an online max-subtracted log-sum-exp over k ≠ i
 *                   lse_i = m_i + log Σ_{k≠i} exp(s_ik/τ − m_i),
 *               the positive's logit, the argmax (contrastive accuracy),
 *               the positive and negative cosines, and optionally the row
 *               s_i· itself: all from the same pass over k.
 *  3. reduce    L = 1/(2N) Σ_i (lse_i − s_{i,p(i)}/τ), and the step metrics.
 *  4. backward  one workgroup per row i, recomputing s_ik instead of storing it:
 *                   ∂L/∂s_ik = (P_ik − 1[k = p(i)]) / (2Nτ),  P_ik = exp(s_ik/τ − lse_i)
 *               s is symmetric, so ∂L/∂ẑ_i = Σ_{k≠i} (∂L/∂s_ik + ∂L/∂s_ki) ẑ_k
 *                                       = 1/(2Nτ) Σ_{k≠i} (P_ik + P_ki − 2·1[k = p(i)]) ẑ_k,
 *               then through the normalization ẑ = z·r, r = ‖z‖⁻¹:
 *                   ∂L/∂z_i = r (g − ẑ_i (ẑ_i·g)),  g = ∂L/∂ẑ_i
 *               (just r·g where the norm was clamped, as the clamp passes no
 *               gradient to ‖z‖; just g without normalization).
 *
 * Wrapped in tf.customGrad, so it drops into optimizer.minimize / variableGrads.
 */
import * as tf from '@tensorflow/tfjs';
import { validateInputs, type NtXentOptions } from './ntxent';

/** Threads per workgroup; 2N need not be a multiple of it. */
const WORKGROUP = 64;
/**
 * Columns of the per-anchor statistics the forward program writes, before
 * the optional matrix row: lse_i, positive logit, argmax == positive (0/1),
 * positive cosine, Σ negative cosines, row max logit, two spare.
 */
const STAT_COLUMNS = 8;
/** Extra columns after ẑ_i in the packed rows: cosine factor, inverse norm r_i, clamped flag. */
const PACK_EXTRA = 3;
/** A workgroup's four anchor rows ẑ_i sit in workgroup memory (16 KiB guaranteed by WebGPU): 512 × 16 B = 8 KiB. */
export const MAX_FUSED_DIM = 512;
/** ‖z‖² is clamped to at least (1e-12)², as in ./ntxent.ts. */
const MIN_SQUARED_NORM = '1e-24';

/** The subset of tfjs-backend-webgpu's WebGPUProgram these programs fill in. */
interface FusedProgram {
  variableNames: string[];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  uniforms?: string;
  getUserCode: () => string;
}

/** tfjs-backend-webgpu's WebGPUBackend, as far as these programs use it. */
interface WebGpuBackendLike {
  runWebGPUProgram(
    program: FusedProgram,
    inputs: tf.TensorInfo[],
    outputDtype: tf.DataType,
    programDefinedUniform?: { type: string; data: number[] }[],
  ): tf.TensorInfo;
}

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

/** Program 1: the packed buffer (see transposedOffset) for the 2N rows of concat(z1, z2). */
function packProgram(n: number, d: number): FusedProgram {
  const body = `
    var<workgroup> nxSquares : array<f32, ${WORKGROUP}>;
    fn nxInput(row : i32, c : i32) -> f32 {
      if (row < ${n}) { return za[row * ${d} + c]; }
      return zb[(row - ${n}) * ${d} + c];
    }
    fn main(index : i32) {
      let row = index / ${WORKGROUP};
      let t = i32(localId.x);
      let valid = row < ${2 * n};
      var squares = 0.0;
      if (valid) {
        for (var c = t; c < ${d}; c += ${WORKGROUP}) { let v = nxInput(row, c); squares += v * v; }
      }
      nxSquares[t] = squares;
      workgroupBarrier();
      ${treeSum('nxSquares')}
      let squaredNorm = nxSquares[0];
      if (valid) {
        let inverseNorm = inverseSqrt(max(squaredNorm, ${MIN_SQUARED_NORM}));
        let scale = select(1.0, inverseNorm, uniforms.normalize != 0);
        let out = row * ${d + PACK_EXTRA};
        for (var c = t; c < ${d}; c += ${WORKGROUP}) {
          let value = nxInput(row, c) * scale;
          result[out + c] = value;
          result[${transposedOffset(2 * n, d)} + c * ${2 * n} + row] = value;
        }
        if (t == 0) {
          // cosine(i, k) = s_ik · factor_i · factor_k: s is already a cosine when normalized
          result[out + ${d}] = select(inverseNorm, 1.0, uniforms.normalize != 0);
          result[out + ${d + 1}] = inverseNorm;
          result[out + ${d + 2}] = select(0.0, 1.0, squaredNorm < ${MIN_SQUARED_NORM});
        }
      }
    }`;
  const length = transposedOffset(2 * n, d) + d * 2 * n;
  return program(`ntxentPack_${n}_${d}`, ['za', 'zb'], [length], 2 * n, 'normalize : i32,', body);
}

/**
 * vec4s of anchors per workgroup in the forward program: two (eight anchors)
 * where their rows fit in workgroup memory beside the reduction arrays
 * (d ≤ 256), else one.
 */
function forwardHalves(d: number): 1 | 2 {
  return d <= 256 ? 2 : 1;
}

/**
 * Program 2: per-anchor statistics [2N, STAT_COLUMNS], followed by the row
 * s_i· ([2N, STAT_COLUMNS + 2N]): written once here, read once by the backward
 * program (cheaper than recomputing 2N²d products) and by the heatmap. Each
 * workgroup takes 4 or 8 anchors as the lanes of one or two vec4s (`a`: rows
 * first…first+3, `b`: first+4…first+7), so every ẑ_k value read from memory
 * feeds four or eight multiply-adds (register tiling).
 */
function forwardProgram(twoN: number, d: number): FusedProgram {
  const stride = d + PACK_EXTRA;
  const width = STAT_COLUMNS + twoN;
  const transposed = transposedOffset(twoN, d);
  const halves = forwardHalves(d);
  const names = halves === 2 ? ['a', 'b'] : ['a'];
  /** the statement once per half, `$` standing for a or b */
  const each = (statement: string) => names.map((h) => statement.replaceAll('$', h)).join('\n      ');
  const lowest = '-3.0e38'; // below any logit, and exp(lowest − x) is 0 without needing −∞
  const reduceHalf = (h: string) => `
      nxMax[t] = runningMax${h};
      nxSum[t] = runningSum${h};
      nxBest[t] = best${h};
      nxBestIndex[t] = bestIndex${h};
      nxPositiveLogit[t] = positiveLogit${h};
      nxPositiveCosine[t] = positiveCosine${h};
      nxNegativeCosine[t] = negativeCosine${h};
      workgroupBarrier();
      for (var half = ${WORKGROUP / 2}; half > 0; half = half / 2) {
        if (t < half) {
          let u = t + half;
          let m = max(nxMax[t], nxMax[u]);
          nxSum[t] = nxSum[t] * exp(nxMax[t] - m) + nxSum[u] * exp(nxMax[u] - m);
          nxMax[t] = m;
          // argmax over k ≠ i, the lowest index winning ties (as tf.argMax)
          let takeOther = (nxBest[u] > nxBest[t]) | ((nxBest[u] == nxBest[t]) & (nxBestIndex[u] < nxBestIndex[t]));
          nxBest[t] = select(nxBest[t], nxBest[u], takeOther);
          nxBestIndex[t] = select(nxBestIndex[t], nxBestIndex[u], takeOther);
          nxPositiveLogit[t] = nxPositiveLogit[t] + nxPositiveLogit[u];
          nxPositiveCosine[t] = nxPositiveCosine[t] + nxPositiveCosine[u];
          nxNegativeCosine[t] = nxNegativeCosine[t] + nxNegativeCosine[u];
        }
        workgroupBarrier();
      }
      if (t < 4 && first${h === 'a' ? '' : ' + 4'} + t < ${twoN}) {
        let out = (first${h === 'a' ? '' : ' + 4'} + t) * ${width};
        result[out] = nxMax[0][t] + log(nxSum[0][t]);
        result[out + 1] = nxPositiveLogit[0][t];
        result[out + 2] = select(0.0, 1.0, nxBestIndex[0][t] == positives${h}[t]);
        result[out + 3] = nxPositiveCosine[0][t];
        result[out + 4] = nxNegativeCosine[0][t];
        result[out + 5] = nxMax[0][t];
        result[out + 6] = 0.0;
        result[out + 7] = 0.0;
      }
      workgroupBarrier();`;
  const body = `
    ${names.map((h) => `var<workgroup> nxAnchor${h.toUpperCase()} : array<vec4<f32>, ${d}>;`).join('\n    ')}
    var<workgroup> nxMax : array<vec4<f32>, ${WORKGROUP}>;
    var<workgroup> nxSum : array<vec4<f32>, ${WORKGROUP}>;
    var<workgroup> nxBest : array<vec4<f32>, ${WORKGROUP}>;
    var<workgroup> nxBestIndex : array<vec4<i32>, ${WORKGROUP}>;
    var<workgroup> nxPositiveLogit : array<vec4<f32>, ${WORKGROUP}>;
    var<workgroup> nxPositiveCosine : array<vec4<f32>, ${WORKGROUP}>;
    var<workgroup> nxNegativeCosine : array<vec4<f32>, ${WORKGROUP}>;
    fn nxPacked(offset : vec4<i32>) -> vec4<f32> {
      return vec4<f32>(packed[offset.x], packed[offset.y], packed[offset.z], packed[offset.w]);
    }
    fn main(index : i32) {
      let first = (index / ${WORKGROUP}) * ${4 * halves};
      let t = i32(localId.x);
      let rowsa = vec4<i32>(first, first + 1, first + 2, first + 3);
      ${halves === 2 ? 'let rowsb = rowsa + vec4<i32>(4);' : ''}
      ${each(`let anchors$ = min(rows$, vec4<i32>(${twoN - 1}));`)}
      ${each(`let positives$ = (anchors$ + vec4<i32>(${twoN / 2})) % vec4<i32>(${twoN});`)}
      for (var c = t; c < ${d}; c += ${WORKGROUP}) {
        let column = vec4<i32>(${transposed} + c * ${twoN});
        ${names.map((h) => `nxAnchor${h.toUpperCase()}[c] = nxPacked(column + anchors${h});`).join('\n        ')}
      }
      workgroupBarrier();
      // cosine(i, k) = s_ik · factor_i · factor_k
      ${each(`let anchorFactor$ = nxPacked(anchors$ * ${stride} + vec4<i32>(${d}));`)}

      // This thread's share of the rows: candidates k = t, t + ${WORKGROUP}, …
      ${each(`var runningMax$ = vec4<f32>(${lowest});`)}
      ${each(`var runningSum$ = vec4<f32>(0.0);`)}
      ${each(`var best$ = vec4<f32>(${lowest});`)}
      ${each(`var bestIndex$ = vec4<i32>(${twoN});`)}
      ${each(`var positiveLogit$ = vec4<f32>(0.0);`)}
      ${each(`var positiveCosine$ = vec4<f32>(0.0);`)}
      ${each(`var negativeCosine$ = vec4<f32>(0.0);`)}
      for (var k = t; k < ${twoN}; k += ${WORKGROUP}) {
        ${each(`var s$ = vec4<f32>(0.0);`)}
        for (var c = 0; c < ${d}; c++) {
          let zk = packed[${transposed} + c * ${twoN} + k];
          ${names.map((h) => `s${h} += nxAnchor${h.toUpperCase()}[c] * zk;`).join('\n          ')}
        }
        for (var r = 0; r < 4; r++) {
          if (first + r < ${twoN}) { result[(first + r) * ${width} + ${STAT_COLUMNS} + k] = sa[r]; }
          ${halves === 2 ? `if (first + 4 + r < ${twoN}) { result[(first + 4 + r) * ${width} + ${STAT_COLUMNS} + k] = sb[r]; }` : ''}
        }
        let candidate = vec4<i32>(k);
        let candidateFactor = packed[k * ${stride} + ${d}];
        ${each(`{
          let isSelf = anchors$ == candidate;
          let logit = s$ * uniforms.inverseTemperature;
          // online log-sum-exp over k ≠ i: keep Σ exp(logit − runningMax) as the max moves
          let larger = (logit > runningMax$) & !isSelf;
          let e = exp(select(logit - runningMax$, runningMax$ - logit, larger));
          runningSum$ = select(select(runningSum$ + e, runningSum$, isSelf), runningSum$ * e + vec4<f32>(1.0), larger);
          runningMax$ = select(runningMax$, logit, larger);
          let better = (s$ > best$) & !isSelf;
          best$ = select(best$, s$, better);
          bestIndex$ = select(bestIndex$, candidate, better);
          let cosine = s$ * anchorFactor$ * candidateFactor;
          let isPositive = positives$ == candidate;
          positiveLogit$ = select(positiveLogit$, logit, isPositive);
          positiveCosine$ = select(positiveCosine$, cosine, isPositive);
          negativeCosine$ += select(cosine, vec4<f32>(0.0), isPositive | isSelf);
        }`)}
      }
      ${names.map(reduceHalf).join('\n')}
    }`;
  return program(
    `ntxentForward_${twoN}_${d}`,
    ['packed'],
    [twoN, width],
    Math.ceil(twoN / (4 * halves)),
    'inverseTemperature : f32,',
    body,
  );
}

/**
 * Program 3: one workgroup reduces the statistics to
 * [L, mean positive cosine, mean negative cosine, contrastive accuracy].
 */
function reduceProgram(twoN: number, width: number): FusedProgram {
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
        let row = i * ${width};
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
  return program(`ntxentReduce_${twoN}_${width}`, ['stats'], [4], 1, '', body);
}

/** Anchor rows per workgroup in the backward program: two vec4s (its loop reads each ẑ_k value once for eight rows). */
const BACKWARD_ANCHORS_PER_GROUP = 8;

/**
 * Program 4: ∂L/∂z for the 2N rows of concat(z1, z2), [2N, d]. Eight rows
 * per workgroup as the lanes of two vec4s, `a` (rows first…first+3) and `b`
 * (first+4…first+7).
 */
function backwardProgram(twoN: number, d: number, width: number): FusedProgram {
  const stride = d + PACK_EXTRA;
  const chunks = Math.ceil(twoN / WORKGROUP);
  const columnsPerThread = Math.ceil(d / WORKGROUP);
  const columns = Array.from({ length: columnsPerThread }, (_, m) => m);
  /** the same statement for both halves, `$` standing for a or b */
  const both = (statement: string) => ['a', 'b'].map((h) => statement.replaceAll('$', h)).join('\n      ');
  const body = `
    var<workgroup> nxWeightA : array<vec4<f32>, ${WORKGROUP}>;
    var<workgroup> nxWeightB : array<vec4<f32>, ${WORKGROUP}>;
    var<workgroup> nxDotA : array<vec4<f32>, ${WORKGROUP}>;
    var<workgroup> nxDotB : array<vec4<f32>, ${WORKGROUP}>;
    fn nxPacked(offset : vec4<i32>) -> vec4<f32> {
      return vec4<f32>(packed[offset.x], packed[offset.y], packed[offset.z], packed[offset.w]);
    }
    fn nxStats(offset : vec4<i32>) -> vec4<f32> {
      return vec4<f32>(stats[offset.x], stats[offset.y], stats[offset.z], stats[offset.w]);
    }
    fn main(index : i32) {
      let first = (index / ${WORKGROUP}) * ${BACKWARD_ANCHORS_PER_GROUP};
      let t = i32(localId.x);
      let rowsa = vec4<i32>(first, first + 1, first + 2, first + 3);
      let rowsb = rowsa + vec4<i32>(4);
      ${both(`let valid$ = rows$ < vec4<i32>(${twoN});`)}
      ${both(`let anchors$ = min(rows$, vec4<i32>(${twoN - 1}));`)}
      ${both(`let positives$ = (anchors$ + vec4<i32>(${twoN / 2})) % vec4<i32>(${twoN});`)}
      ${both(`let lse$ = nxStats(anchors$ * ${width});`)}
      // this thread owns columns c = t + ${WORKGROUP}·m of the eight gradient rows
      var gradienta : array<vec4<f32>, ${columnsPerThread}>;
      var gradientb : array<vec4<f32>, ${columnsPerThread}>;
      for (var m = 0; m < ${columnsPerThread}; m++) {
        gradienta[m] = vec4<f32>(0.0);
        gradientb[m] = vec4<f32>(0.0);
      }
      for (var chunk = 0; chunk < ${chunks}; chunk++) {
        // weight_k = P_ik + P_ki − 2·1[k = p(i)] for this chunk's candidates k, eight anchors i at once,
        // from s_ik as the forward program stored it
        let k = chunk * ${WORKGROUP} + t;
        var weighta = vec4<f32>(0.0);
        var weightb = vec4<f32>(0.0);
        if (k < ${twoN}) {
          let candidate = vec4<i32>(k);
          let lseK = vec4<f32>(stats[k * ${width}]);
          ${both(`let logit$ = nxStats(anchors$ * ${width} + vec4<i32>(${STAT_COLUMNS} + k)) * uniforms.inverseTemperature;`)}
          ${both(`weight$ = exp(logit$ - lse$) + exp(logit$ - lseK) - select(vec4<f32>(0.0), vec4<f32>(2.0), positives$ == candidate);`)}
          ${both(`weight$ = select(weight$, vec4<f32>(0.0), (anchors$ == candidate) | !valid$);`)}
        }
        nxWeightA[t] = weighta;
        nxWeightB[t] = weightb;
        workgroupBarrier();
        // constant trip counts (weights past 2N are 0, their rows clamped in bounds): a CPU Vulkan vectorizes these loops
        let chunkRow = chunk * ${WORKGROUP};
        // all of this thread's columns in one pass over j (unrolled): each weight pair is read once for them all
        ${columns.map((m) => `let c${m} = min(t + ${m * WORKGROUP}, ${d - 1});
        var suma${m} = gradienta[${m}];
        var sumb${m} = gradientb[${m}];`).join('\n        ')}
        for (var j = 0; j < ${WORKGROUP}; j++) {
          let weightA = nxWeightA[j];
          let weightB = nxWeightB[j];
          let rowJ = min(chunkRow + j, ${twoN - 1}) * ${stride};
          ${columns.map((m) => `let zk${m} = packed[rowJ + c${m}];
          suma${m} += weightA * zk${m};
          sumb${m} += weightB * zk${m};`).join('\n          ')}
        }
        ${columns.map((m) => `gradienta[${m}] = suma${m};
        gradientb[${m}] = sumb${m};`).join('\n        ')}
        workgroupBarrier();
      }
      // g = ∂L/∂ẑ_i = dy/(2Nτ) · Σ_k weight_k ẑ_k; this thread's part of ẑ_i·g
      let scale = dy[0] * uniforms.inverseTemperature / ${twoN}.0;
      var parta = vec4<f32>(0.0);
      var partb = vec4<f32>(0.0);
      for (var m = 0; m < ${columnsPerThread}; m++) {
        let c = t + m * ${WORKGROUP};
        if (c < ${d}) {
          ${both(`gradient$[m] = gradient$[m] * scale;`)}
          ${both(`part$ += gradient$[m] * nxPacked(anchors$ * ${stride} + vec4<i32>(c));`)}
        }
      }
      nxDotA[t] = parta;
      nxDotB[t] = partb;
      workgroupBarrier();
      ${treeSum('nxDotA')}
      ${treeSum('nxDotB')}
      let projectiona = nxDotA[0];
      let projectionb = nxDotB[0];
      ${both(`let inverseNorm$ = nxPacked(anchors$ * ${stride} + vec4<i32>(${d + 1}));`)}
      ${both(`let clamped$ = nxPacked(anchors$ * ${stride} + vec4<i32>(${d + 2})) > vec4<f32>(0.5);`)}
      for (var m = 0; m < ${columnsPerThread}; m++) {
        let c = t + m * ${WORKGROUP};
        if (c < ${d}) {
          var dza = gradienta[m];
          var dzb = gradientb[m];
          if (uniforms.normalize != 0) {
            ${both(`dz$ = select(inverseNorm$ * (dz$ - nxPacked(anchors$ * ${stride} + vec4<i32>(c)) * projection$), inverseNorm$ * dz$, clamped$);`)}
          }
          for (var r = 0; r < 4; r++) {
            if (first + r < ${twoN}) { result[(first + r) * ${d} + c] = dza[r]; }
            if (first + 4 + r < ${twoN}) { result[(first + 4 + r) * ${d} + c] = dzb[r]; }
          }
        }
      }
    }`;
  return program(
    `ntxentBackward_${twoN}_${d}_${width}`,
    ['packed', 'stats', 'dy'],
    [twoN, d],
    Math.ceil(twoN / BACKWARD_ANCHORS_PER_GROUP),
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
  const info = backend.runWebGPUProgram(fused, inputs, 'float32', uniforms);
  return tf.engine().makeTensorFromTensorInfo(info);
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
  const width = STAT_COLUMNS + twoN;

  let metrics: tf.Tensor1D | undefined;
  let affinityMatrix: tf.Tensor2D | null = null;
  const lossOf = tf.customGrad((a, b, saveArg) => {
    const save = saveArg as tf.GradSaveFunc;
    const packed = run(backend, packProgram(n, d), [a as tf.Tensor, b as tf.Tensor], [{ type: 'int32', data: [normalize] }]);
    const stats = run(backend, forwardProgram(twoN, d), [packed], [
      { type: 'float32', data: [inverseTemperature] },
    ]);
    const reduced = run(backend, reduceProgram(twoN, width), [stats]);
    // metrics and the matrix leave this tidy scope; the loss is its value
    metrics = tf.keep(tf.slice(reduced, [1], [3]) as tf.Tensor1D);
    if (withAffinity) affinityMatrix = tf.keep(tf.slice(stats, [0, STAT_COLUMNS], [twoN, twoN]) as tf.Tensor2D);
    save([packed, stats]);
    const value = tf.reshape(tf.slice(reduced, [0], [1]), []) as tf.Scalar;
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [savedPacked, savedStats] = saved;
        const dz = run(backend, backwardProgram(twoN, d, width), [savedPacked, savedStats, tf.reshape(dy, [1])], [
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
