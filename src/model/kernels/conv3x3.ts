/**
 * The encoder's 3×3 convolution ('same' zero padding, stride 1, NHWC, kernel
 * [3, 3, C, O] as tfjs's) and its two gradients as WGSL compute programs on the
 * webgpu backend, each an implicit GEMM (cuDNN's IMPLICIT_GEMM: the im2col
 * matrix is never written, its entries are read in place).
 *
 *   forward          y[b,i,j,o]  = Σ_{ky,kx,c} x[b, i+ky−1, j+kx−1, c] · k[ky,kx,c,o]
 *                    GEMM M = B·H·W pixels, N = O, K = 9·C
 *   backprop input   dx[b,i,j,c] = Σ_{ky,kx,o} dy[b, i−ky+1, j−kx+1, o] · k[ky,kx,c,o]
 *                    the same GEMM with u = 2 − ky, v = 2 − kx:
 *                    dx[b,i,j,c] = Σ_{u,v,o} dy[b, i+u−1, j+v−1, o] · k[2−u, 2−v, c, o],
 *                    i.e. a forward pass over the spatially flipped, transposed
 *                    kernel, read in place (no copy); M = B·H·W, N = C, K = 9·O
 *   backprop filter  dk[ky,kx,c,o] = Σ_{b,i,j} x[b, i+ky−1, j+kx−1, c] · dy[b,i,j,o]
 *                    GEMM M = 9·C, N = O, K = B·H·W (200,704 at 2N = 256 views of 28 px),
 *                    split across invocations (split-K) into partial sums
 *                    [splits, 9·C·O], then a second program sums the splits.
 * (x outside the image is 0: tfjs's 'same' padding is 1 on every side for a 3×3 kernel.)
 *
 * Why register tiles: on SwiftShader (a CPU Vulkan, one invocation per SIMD
 * lane) every load is paid lane by lane and workgroup barriers are dear, and on
 * a GPU loads are what a GEMM is bound by. Each invocation therefore computes a
 * tile of outputs from values it loaded once, with no workgroup memory:
 *  - forward / backprop input: a tile of PH × PW output pixels (about 16:
 *    2 × 7 at 28, 14 and 7 px, 4 × 4 at 4 px) × 8 output channels (two vec4
 *    groups). Per tap row u and group of 4 reduction channels it loads
 *    PH·(PW + 2) source vec4s (the three kx taps of neighbouring pixels overlap)
 *    and 3 · 4 · 2 weight vec4s for 3 · PH·PW · 2 4×4 matrix–vector products:
 *    at 2 × 7, 42 vec4 loads for 1,344 multiply-adds. The tap rows are a loop
 *    rather than unrolled: the program then compiles in half the time (about
 *    0.5 s a shape on SwiftShader), for 13% more run time.
 *  - backprop filter: all 9 taps × 4 input channels × 4 output channels
 *    (36 vec4 accumulators) over a run of rows (b, i), sliding along j: each
 *    pixel costs 3 new x vec4s and 1 dy vec4 for 144 multiply-adds.
 * Measured on SwiftShader at the default layers (conv-timing, CPU time):
 * a 1 × 4 pixel tile ran 1.9× slower than 2 × 7 (both × 4 channels, 14 px
 * layer); 2 × 7 pixels × 4 channels 1.17× slower than × 8; 8 output channels
 * in the filter 1.1× slower than 4; summing a row segment of pixels per filter
 * accumulator update (D · x, D the dy vec4s of 4 pixels) 2.3× slower.
 * Channel counts that are multiples of 4 are read as vec4s; other counts
 * (widths down to 1, RGB's 3) take scalar loads, and a last group of fewer than
 * 4 channels only the products that exist.
 *
 * Every program is specialised to its shapes (they are WGSL constants and part
 * of the shader key), so loop bounds and strides are literals.
 */
import * as tf from '@tensorflow/tfjs';
import { foldDispatch, runProgram, webgpuBackend, type KernelProgram } from './webgpuProgram';

/** Invocations per workgroup: 64 fills two 32-wide warps or one 64-wide wavefront; no program shares workgroup memory. */
const WORKGROUP = 64;

/** How the programs tile their work; the defaults are what measured fastest (see conv-timing in src/checks/convKernelChecks.ts). */
export interface Conv3x3Tiling {
  /** forward / backprop input: output rows (i) of a pixel tile; 0: about 16 pixels a tile ({@link tileRowsFor}) */
  tileRows: number;
  /** forward / backprop input: output columns (j) of a pixel tile; 0: the width 4…8 that wastes least on this image ({@link tileColumnsFor}) */
  tileColumns: number;
  /** forward / backprop input: groups of 4 output channels per invocation */
  channelGroupsPerTile: number;
  /** backprop filter: groups of 4 output channels per invocation */
  filterOutputGroups: number;
  /** backprop filter: invocations the split-K aims for in all (enough to fill a GPU) */
  filterTargetInvocations: number;
}

export const DEFAULT_TILING: Conv3x3Tiling = {
  tileRows: 0,
  tileColumns: 0,
  channelGroupsPerTile: 2,
  filterOutputGroups: 1,
  filterTargetInvocations: 16384,
};

/**
 * Columns of a pixel tile for an image `width` wide: of 4…8, the one whose
 * tiles overhang the image least (28 → 7, 14 → 7, 7 → 7, 4 → 4, 32 → 8),
 * the wider on a tie; the whole row below 4.
 */
export function tileColumnsFor(width: number): number {
  if (width <= 4) return width;
  let best = 4;
  for (let columns = 5; columns <= 8; columns++) {
    if (Math.ceil(width / columns) * columns <= Math.ceil(width / best) * best) best = columns;
  }
  return best;
}

/** Rows of a pixel tile `columns` wide on an image `height` high: about 16 pixels a tile (28 or 14 px: 2 × 7, 4 px: 4 × 4). */
export function tileRowsFor(height: number, columns: number): number {
  return Math.max(1, Math.min(height, Math.round(16 / columns)));
}

/**
 * Largest partial-sum buffer the backprop filter's split-K writes, in floats
 * (16 MiB): the splits are capped so that splits · 9·C·O stays below it.
 */
const MAX_PARTIAL_FLOATS = 1 << 22;

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** `vec4<f32>(a, b, c, d)` from four scalar expressions, a missing lane (null) being 0. */
function vec4Of(lanes: (string | null)[]): string {
  return `vec4<f32>(${lanes.map((lane) => lane ?? '0.0').join(', ')})`;
}

/** A WGSL read of a uniform, so that tfjs's uniform binding survives the pipeline's layout 'auto'. */
function keepUniforms(outputRank: number): string {
  return outputRank === 1 ? 'uniforms.outShape < 0' : 'uniforms.outShape.x < 0';
}

function describeShape(t: tf.Tensor): string {
  return `[${t.shape.join(', ')}]`;
}

function requireFloat4D(caller: string, name: string, t: tf.Tensor): void {
  if (t.rank !== 4) throw new Error(`${caller}: ${name} must be rank 4 (NHWC or [3, 3, in, out]), got shape ${describeShape(t)}`);
  if (t.dtype !== 'float32') throw new Error(`${caller}: ${name} must be float32, got ${t.dtype} (shape ${describeShape(t)})`);
}

function requireKernel3x3(caller: string, kernel: tf.Tensor): void {
  requireFloat4D(caller, 'kernel', kernel);
  if (kernel.shape[0] !== 3 || kernel.shape[1] !== 3) {
    throw new Error(`${caller}: kernel must be [3, 3, in channels, out channels], got ${describeShape(kernel)}`);
  }
}

/**
 * One forward-shaped implicit GEMM: out[b,i,j,q] = Σ_{u,v,r} source[b, i+u−1, j+v−1, r] · W(u,v,r,q)
 * over u, v ∈ {0,1,2} and the reduction channels r, with
 *   forward:        W(u,v,r,q) = k[u, v, r, q]          (r = c, q = o)
 *   backprop input: W(u,v,r,q) = k[2−u, 2−v, q, r]      (r = o, q = c)
 * k is [3, 3, C, O], so the flat tap index of W is t = 3u + v (forward) or 8 − t.
 */
interface ImplicitGemmSpec {
  mode: 'forward' | 'backpropInput';
  batch: number;
  height: number;
  width: number;
  /** C and O of the kernel [3, 3, C, O] */
  inChannels: number;
  outChannels: number;
  tiling: Conv3x3Tiling;
}

function implicitGemmProgram(spec: ImplicitGemmSpec): KernelProgram {
  const { mode, batch: B, height: H, width: W, inChannels: C, outChannels: O } = spec;
  const forward = mode === 'forward';
  const reduction = forward ? C : O; // r runs over these channels
  const outputChannels = forward ? O : C; // q runs over these
  const PW = Math.min(spec.tiling.tileColumns || tileColumnsFor(W), W);
  const PH = Math.min(spec.tiling.tileRows || tileRowsFor(H, PW), H);
  const QG = Math.min(spec.tiling.channelGroupsPerTile, Math.ceil(outputChannels / 4));

  const sourceVec4 = reduction % 4 === 0;
  const kernelVec4 = O % 4 === 0; // k's last axis is o: contiguous over q (forward) or r (backprop input)
  const outputVec4 = outputChannels % 4 === 0;
  const sourceStride = sourceVec4 ? reduction / 4 : reduction; // entries per pixel
  const fullGroups = Math.floor(reduction / 4);
  const remainder = reduction % 4;
  const qGroups = Math.ceil(outputChannels / 4);
  const qTiles = Math.ceil(qGroups / QG);
  const jTiles = Math.ceil(W / PW);
  const iTiles = Math.ceil(H / PH);
  const total = B * iTiles * jTiles * qTiles;
  const O4 = O / 4;

  /** the output channel q of lane `lane` of group g, or null where the group has no such channel */
  const qOf = (g: number, lane: number): string | null => {
    if (outputChannels < 4 && lane >= outputChannels) return null;
    const q = `(q4 + ${g}) * 4 + ${lane}`;
    return outputChannels % 4 === 0 ? q : `min(${q}, ${outputChannels - 1})`;
  };
  /** the q-group index g of this invocation, clamped where the last tile has fewer than QG groups */
  const qGroupOf = (g: number): string => (qGroups % QG === 0 ? `q4 + ${g}` : `min(q4 + ${g}, ${qGroups - 1})`);
  /** flat index of k[tap, c, o] */
  const kIndex = (tap: string, c: string, o: string) => `(${tap}) * ${C * O} + (${c}) * ${O} + ${o}`;

  /** vec4 over the 4 q of group g of W(tap, r, q); tap = 3u + v */
  const weightColumn = (tap: string, r: string, g: number): string => {
    if (forward) {
      if (kernelVec4) return `kernel[(${tap}) * ${C * O4} + (${r}) * ${O4} + ${qGroupOf(g)}]`;
      return vec4Of(range(4).map((lane) => {
        const q = qOf(g, lane);
        return q === null ? null : `kernel[${kIndex(tap, r, q)}]`;
      }));
    }
    return vec4Of(range(4).map((lane) => {
      const q = qOf(g, lane);
      return q === null ? null : `kernel[${kIndex(`8 - (${tap})`, q, r)}]`;
    }));
  };
  /** backprop input: vec4 over the 4 r of group r4 of W(tap, r, q) = k[8 − tap, q, r] (contiguous in k) */
  const weightRow = (tap: string, q: string): string =>
    kernelVec4
      ? `kernel[(8 - (${tap})) * ${C * O4} + (${q}) * ${O4} + r4]`
      : vec4Of(range(4).map((e) => `kernel[${kIndex(`8 - (${tap})`, q, `r4 * 4 + ${e}`)}]`));

  const pixels = range(PH).flatMap((a) => range(PW).map((b) => [a, b] as const));
  const acc = (a: number, b: number, g: number) => `acc${a}_${b}_${g}`;
  /** the source rows of one tap row u: i0 + a + u − 1 for the PH tile rows a, columns j0 − 1 … j0 + PW */
  const window = range(PH).flatMap((a) => range(PW + 2).map((c) => [a, c] as const));

  /** the multiply-adds of one full group of 4 reduction channels for tap (u, v), u the loop's: every pixel of the tile */
  const fullGroupProducts = (v: number): string => {
    const tap = `tapRow + ${v}`;
    const lines: string[] = [];
    for (let g = 0; g < QG; g++) {
      const w = `w${v}_${g}`;
      if (forward) {
        // M's columns are W(·, r, q) over q: M · s = Σ_r s_r W(·, r, ·)
        lines.push(`let ${w} = mat4x4<f32>(${range(4).map((cc) => weightColumn(tap, `r4 * 4 + ${cc}`, g)).join(', ')});`);
        for (const [a, b] of pixels) lines.push(`${acc(a, b, g)} += ${w} * s${a}_${b + v};`);
      } else {
        // M's columns are W(·, r, q) over r: s · M = (s · W(·, ·, q)) over q
        const rows = range(4).map((lane) => qOf(g, lane));
        if (rows.every((q) => q !== null)) {
          lines.push(`let ${w} = mat4x4<f32>(${rows.map((q) => weightRow(tap, q!)).join(', ')});`);
          for (const [a, b] of pixels) lines.push(`${acc(a, b, g)} += s${a}_${b + v} * ${w};`);
        } else {
          // fewer than 4 output channels in all: only the dot products that exist
          rows.forEach((q, lane) => { if (q !== null) lines.push(`let ${w}_${lane} = ${weightRow(tap, q)};`); });
          for (const [a, b] of pixels) {
            lines.push(`${acc(a, b, g)} += ${vec4Of(rows.map((q, lane) => (q === null ? null : `dot(s${a}_${b + v}, ${w}_${lane})`)))};`);
          }
        }
      }
    }
    return lines.join('\n          ');
  };

  /** the last reduction channels when their count is not a multiple of 4: scalar × vec4 per channel */
  const remainderProducts = (): string => {
    if (remainder === 0) return '';
    const r0 = fullGroups * 4;
    const lines: string[] = [];
    for (let cc = 0; cc < remainder; cc++) {
      for (const [a, c] of window) lines.push(`let t${a}_${c}_${cc} = select(0.0, source[base${a}_${c} + ${r0 + cc}], ok${a}_${c});`);
    }
    for (let v = 0; v < 3; v++) {
      for (let cc = 0; cc < remainder; cc++) {
        for (let g = 0; g < QG; g++) {
          const m = `m${v}_${cc}_${g}`;
          lines.push(`let ${m} = ${weightColumn(`tapRow + ${v}`, `${r0 + cc}`, g)};`);
          for (const [a, b] of pixels) lines.push(`${acc(a, b, g)} += ${m} * t${a}_${b + v}_${cc};`);
        }
      }
    }
    return lines.join('\n        ');
  };

  const loadSource = (a: number, c: number): string =>
    sourceVec4
      ? `select(vec4<f32>(0.0), source[base${a}_${c} + r4], ok${a}_${c})`
      : `select(vec4<f32>(0.0), ${vec4Of(range(4).map((e) => `source[base${a}_${c} + r4 * 4 + ${e}]`))}, ok${a}_${c})`;

  const store = (a: number, b: number, g: number): string => {
    const inImage = `i0 + ${a} < ${H} && j0 + ${b} < ${W}`;
    const pixel = `((imageRow0 + ${a}) * ${W} + j0 + ${b})`;
    if (outputVec4) {
      const guard = qGroups % QG === 0 ? '' : ` && q4 + ${g} < ${qGroups}`;
      return `if (${inImage}${guard}) { result[${pixel} * ${outputChannels / 4} + q4 + ${g}] = ${acc(a, b, g)}; }`;
    }
    return range(4)
      .map((lane) => `if (${inImage} && (q4 + ${g}) * 4 + ${lane} < ${outputChannels}) { result[${pixel} * ${outputChannels} + (q4 + ${g}) * 4 + ${lane}] = ${acc(a, b, g)}[${lane}]; }`)
      .join('\n      ');
  };

  const body = `
    fn main(index : i32) {
      if (index >= ${total} || ${keepUniforms(4)}) { return; }
      // invocation → (q tile fastest, then j tile, i tile, image b)
      let qTile = index % ${qTiles};
      let jTile = (index / ${qTiles}) % ${jTiles};
      let iTile = (index / ${qTiles * jTiles}) % ${iTiles};
      let b = index / ${qTiles * jTiles * iTiles};
      let i0 = iTile * ${PH};
      let j0 = jTile * ${PW};
      let q4 = qTile * ${QG};
      let imageRow0 = b * ${H} + i0;
      // the source columns j0 − 1 + c, zero outside the image
      ${range(PW + 2).map((c) => `let columnOk${c} = j0 + ${c - 1} >= 0 && j0 + ${c - 1} < ${W};
      let column${c} = clamp(j0 + ${c - 1}, 0, ${W - 1});`).join('\n      ')}
      ${pixels.map(([a, b]) => range(QG).map((g) => `var ${acc(a, b, g)} = vec4<f32>(0.0);`).join(' ')).join('\n      ')}
      // tap row u (a loop, so that the compiled program stays small) reads source rows i0 + a + u − 1
      for (var u = 0; u < 3; u++) {
        let tapRow = u * 3;
        ${range(PH).map((a) => `let rowOk${a} = i0 + ${a - 1} + u >= 0 && i0 + ${a - 1} + u < ${H};
        let rowBase${a} = (b * ${H} + clamp(i0 + ${a - 1} + u, 0, ${H - 1})) * ${W};`).join('\n        ')}
        ${window.map(([a, c]) => `let base${a}_${c} = (rowBase${a} + column${c}) * ${sourceStride};
        let ok${a}_${c} = rowOk${a} && columnOk${c};`).join('\n        ')}
        for (var r4 = 0; r4 < ${fullGroups}; r4++) {
          ${window.map(([a, c]) => `let s${a}_${c} = ${loadSource(a, c)};`).join('\n          ')}
          ${range(3).map(fullGroupProducts).join('\n          ')}
        }
        ${remainderProducts()}
      }
      ${pixels.map(([a, b]) => range(QG).map((g) => store(a, b, g)).join('\n      ')).join('\n      ')}
    }`;

  return {
    variableNames: ['source', 'kernel'],
    outputShape: [B, H, W, outputChannels],
    shaderKey: `conv3x3_${mode}_${B}_${H}_${W}_${C}_${O}_${PH}_${PW}_${QG}`,
    dispatchLayout: { x: [0] },
    dispatch: foldDispatch(Math.ceil(total / WORKGROUP)),
    workgroupSize: [WORKGROUP, 1, 1],
    variableComponents: [sourceVec4 ? 4 : 1, kernelVec4 ? 4 : 1],
    outputComponent: outputVec4 ? 4 : 1,
    getUserCode: () => body,
  };
}

/** How the backprop filter splits its B·H·W reduction: `splits` runs of `rowsPerSplit` rows (b, i). */
export interface FilterSplit {
  splits: number;
  rowsPerSplit: number;
}

/**
 * The split-K of the backprop filter. A tile (4 input × 4·G output channels,
 * all 9 taps) alone gives only ⌈C/4⌉·⌈O/4G⌉ invocations (8 for the first
 * layer), far too few to fill a GPU, so the B·H rows (b, i) are split into runs,
 * one invocation per (tile, run): at least ⌈target / tiles⌉ runs of equal
 * length, capped by the number of rows and by the partial buffer
 * (splits · 9·C·O ≤ MAX_PARTIAL_FLOATS). The second program reads every partial once.
 */
export function filterSplit(batch: number, height: number, inChannels: number, outChannels: number, tiling: Conv3x3Tiling = DEFAULT_TILING): FilterSplit {
  const rows = batch * height;
  const tiles = Math.ceil(inChannels / 4) * Math.ceil(Math.ceil(outChannels / 4) / tiling.filterOutputGroups);
  const cap = Math.max(1, Math.min(rows, Math.floor(MAX_PARTIAL_FLOATS / (9 * inChannels * outChannels))));
  const wanted = Math.min(Math.ceil(tiling.filterTargetInvocations / tiles), cap);
  // equal runs of ⌊rows / wanted⌋ rows give at least `wanted` runs; fewer, longer runs where that passes the cap
  let rowsPerSplit = Math.max(1, Math.floor(rows / wanted));
  if (Math.ceil(rows / rowsPerSplit) > cap) rowsPerSplit = Math.ceil(rows / cap);
  return { splits: Math.ceil(rows / rowsPerSplit), rowsPerSplit };
}

interface FilterSpec {
  batch: number;
  height: number;
  width: number;
  inChannels: number;
  outChannels: number;
  split: FilterSplit;
  tiling: Conv3x3Tiling;
}

/**
 * Backprop filter, pass 1: partial[s, t·C·O + c·O + o] = Σ over the rows (b, i)
 * of run s, and every j, of x[b, i+ky−1, j+kx−1, c] · dy[b,i,j,o], t = 3ky + kx.
 * Each invocation keeps a 3×3 window of x vec4s (rows i−1, i, i+1 × columns
 * j−1, j, j+1) in registers and slides it along j, so each pixel loads 3 x
 * vec4s and G dy vec4s for 9 · 4 · G outer-product vec4 multiply-adds.
 */
function filterPartialProgram(spec: FilterSpec): KernelProgram {
  const { batch: B, height: H, width: W, inChannels: C, outChannels: O, split } = spec;
  const OG = Math.min(spec.tiling.filterOutputGroups, Math.ceil(O / 4));
  const xVec4 = C % 4 === 0;
  const dyVec4 = O % 4 === 0;
  const oGroups = Math.ceil(O / 4);
  const oTiles = Math.ceil(oGroups / OG);
  const cTiles = Math.ceil(C / 4);
  const total = oTiles * cTiles * split.splits;
  const lanesC = Math.min(4, C); // channels per c tile that exist (all 4 unless C < 4)
  const kernelSize = 9 * C * O;
  const taps = range(9);

  const loadX = (pixel: string, ok: string): string => {
    if (xVec4) return `select(vec4<f32>(0.0), x[(${pixel}) * ${C / 4} + cTile], ${ok})`;
    // scalar loads; in the last c tile of C > 4 channels, the channels past C read channel C − 1 (stored nowhere)
    const lanes = range(4).map((e) => (e < lanesC ? `x[(${pixel}) * ${C} + ${C < 4 ? `c0 + ${e}` : `min(c0 + ${e}, ${C - 1})`}]` : null));
    return `select(vec4<f32>(0.0), ${vec4Of(lanes)}, ${ok})`;
  };
  const oGroupOf = (g: number) => (oGroups % OG === 0 ? `o4 + ${g}` : `min(o4 + ${g}, ${oGroups - 1})`);
  const loadDy = (g: number): string => {
    if (dyVec4) return `dy[pixel * ${O / 4} + ${oGroupOf(g)}]`;
    return vec4Of(range(4).map((lane) => {
      if (O < 4 && lane >= O) return null;
      const o = `(o4 + ${g}) * 4 + ${lane}`;
      return `dy[pixel * ${O} + ${O < 4 ? o : `min(${o}, ${O - 1})`}]`;
    }));
  };
  const acc = (t: number, cc: number, g: number) => `acc${t}_${cc}_${g}`;
  const window = (u: number, v: number) => ['xa', 'xb', 'xc'][v] + u;
  const cLanes = range(lanesC);
  const outputGroups = range(OG);

  const store = (t: number, cc: number, g: number): string => {
    const cGuard = C % 4 === 0 || C < 4 ? 'true' : `c0 + ${cc} < ${C}`;
    const flat = `split * ${kernelSize} + ${t * C * O} + (c0 + ${cc}) * ${O}`;
    if (dyVec4) {
      const oGuard = oGroups % OG === 0 ? 'true' : `o4 + ${g} < ${oGroups}`;
      return `if (${cGuard} && ${oGuard}) { result[(${flat}) / 4 + o4 + ${g}] = ${acc(t, cc, g)}; }`;
    }
    return range(4)
      .map((lane) => `if (${cGuard} && (o4 + ${g}) * 4 + ${lane} < ${O}) { result[${flat} + (o4 + ${g}) * 4 + ${lane}] = ${acc(t, cc, g)}[${lane}]; }`)
      .join('\n      ');
  };

  const body = `
    fn main(index : i32) {
      if (index >= ${total} || ${keepUniforms(2)}) { return; }
      // invocation → (o tile fastest, then c tile, then run of rows)
      let oTile = index % ${oTiles};
      let cTile = (index / ${oTiles}) % ${cTiles};
      let split = index / ${oTiles * cTiles};
      let o4 = oTile * ${OG};
      let c0 = cTile * 4;
      let rowStart = split * ${split.rowsPerSplit};
      let rowEnd = min(rowStart + ${split.rowsPerSplit}, ${B * H});
      ${taps.map((t) => cLanes.map((cc) => outputGroups.map((g) => `var ${acc(t, cc, g)} = vec4<f32>(0.0);`).join(' ')).join(' ')).join('\n      ')}
      for (var row = rowStart; row < rowEnd; row++) {
        let i = row % ${H};
        ${range(3).map((u) => `let ok${u} = i + ${u - 1} >= 0 && i + ${u - 1} < ${H};
        let base${u} = (row - i + clamp(i + ${u - 1}, 0, ${H - 1})) * ${W};
        var xa${u} = vec4<f32>(0.0);
        var xb${u} = ${loadX(`base${u}`, `ok${u}`)};`).join('\n        ')}
        for (var j = 0; j < ${W}; j++) {
          let pixel = row * ${W} + j;
          let nextOk = j + 1 < ${W};
          let next = min(j + 1, ${W - 1});
          ${range(3).map((u) => `let xc${u} = ${loadX(`base${u} + next`, `ok${u} && nextOk`)};`).join('\n          ')}
          ${outputGroups.map((g) => `let dy${g} = ${loadDy(g)};`).join('\n          ')}
          ${taps.map((t) => cLanes.map((cc) => outputGroups.map((g) => `${acc(t, cc, g)} += ${window(Math.floor(t / 3), t % 3)}[${cc}] * dy${g};`).join(' ')).join(' ')).join('\n          ')}
          ${range(3).map((u) => `xa${u} = xb${u}; xb${u} = xc${u};`).join(' ')}
        }
      }
      ${taps.map((t) => cLanes.map((cc) => outputGroups.map((g) => store(t, cc, g)).join('\n      ')).join('\n      ')).join('\n      ')}
    }`;

  return {
    variableNames: ['x', 'dy'],
    outputShape: [split.splits, kernelSize],
    shaderKey: `conv3x3_filterPartial_${B}_${H}_${W}_${C}_${O}_${OG}_${split.splits}_${split.rowsPerSplit}`,
    dispatchLayout: { x: [0] },
    dispatch: foldDispatch(Math.ceil(total / WORKGROUP)),
    workgroupSize: [WORKGROUP, 1, 1],
    variableComponents: [xVec4 ? 4 : 1, dyVec4 ? 4 : 1],
    outputComponent: dyVec4 ? 4 : 1,
    getUserCode: () => body,
  };
}

/** Backprop filter, pass 2: dk[e] = Σ_s partial[s, e], one invocation per (vec4 of) kernel entries. */
function filterReduceProgram(splits: number, inChannels: number, outChannels: number): KernelProgram {
  const vec4 = outChannels % 4 === 0;
  const entries = (9 * inChannels * outChannels) / (vec4 ? 4 : 1);
  const zero = vec4 ? 'vec4<f32>(0.0)' : '0.0';
  const body = `
    fn main(index : i32) {
      if (index >= ${entries} || ${keepUniforms(4)}) { return; }
      var sum = ${zero};
      for (var s = 0; s < ${splits}; s++) { sum += partial[s * ${entries} + index]; }
      result[index] = sum;
    }`;
  return {
    variableNames: ['partial'],
    outputShape: [3, 3, inChannels, outChannels],
    shaderKey: `conv3x3_filterReduce_${splits}_${inChannels}_${outChannels}`,
    dispatchLayout: { x: [0] },
    dispatch: foldDispatch(Math.ceil(entries / WORKGROUP)),
    workgroupSize: [WORKGROUP, 1, 1],
    variableComponents: [vec4 ? 4 : 1],
    outputComponent: vec4 ? 4 : 1,
    getUserCode: () => body,
  };
}

/**
 * y = x ⊛ k, 'same' zero padding, stride 1 (tf.conv2d(x, kernel, 1, 'same')):
 * y[b,i,j,o] = Σ_{ky,kx,c} x[b, i+ky−1, j+kx−1, c] · k[ky,kx,c,o].
 * x: [B, H, W, C], kernel: [3, 3, C, O] → [B, H, W, O]. webgpu backend only.
 */
export function conv3x3Forward(x: tf.Tensor4D, kernel: tf.Tensor4D, tiling: Conv3x3Tiling = DEFAULT_TILING): tf.Tensor4D {
  const caller = 'conv3x3Forward';
  requireFloat4D(caller, 'x', x);
  requireKernel3x3(caller, kernel);
  if (x.shape[3] !== kernel.shape[2]) {
    throw new Error(`${caller}: x ${describeShape(x)} has ${x.shape[3]} channels but kernel ${describeShape(kernel)} expects ${kernel.shape[2]}`);
  }
  const backend = webgpuBackend(caller);
  const [B, H, W, C] = x.shape;
  const program = implicitGemmProgram({ mode: 'forward', batch: B, height: H, width: W, inChannels: C, outChannels: kernel.shape[3], tiling });
  return runProgram(backend, program, [x, kernel]) as tf.Tensor4D;
}

/**
 * dx = ∂L/∂x of {@link conv3x3Forward} given dy = ∂L/∂y:
 * dx[b,i,j,c] = Σ_{ky,kx,o} dy[b, i−ky+1, j−kx+1, o] · k[ky,kx,c,o]
 * (tf.conv2d's gradient, conv2DBackpropInput). dy: [B, H, W, O], kernel: [3, 3, C, O] → [B, H, W, C].
 */
export function conv3x3BackpropInput(dy: tf.Tensor4D, kernel: tf.Tensor4D, tiling: Conv3x3Tiling = DEFAULT_TILING): tf.Tensor4D {
  const caller = 'conv3x3BackpropInput';
  requireFloat4D(caller, 'dy', dy);
  requireKernel3x3(caller, kernel);
  if (dy.shape[3] !== kernel.shape[3]) {
    throw new Error(`${caller}: dy ${describeShape(dy)} has ${dy.shape[3]} channels but kernel ${describeShape(kernel)} has ${kernel.shape[3]} output channels`);
  }
  const backend = webgpuBackend(caller);
  const [B, H, W, O] = dy.shape;
  const program = implicitGemmProgram({ mode: 'backpropInput', batch: B, height: H, width: W, inChannels: kernel.shape[2], outChannels: O, tiling });
  return runProgram(backend, program, [dy, kernel]) as tf.Tensor4D;
}

/**
 * dk = ∂L/∂k of {@link conv3x3Forward} given dy = ∂L/∂y:
 * dk[ky,kx,c,o] = Σ_{b,i,j} x[b, i+ky−1, j+kx−1, c] · dy[b,i,j,o]
 * (tf.conv2d's gradient, conv2DBackpropFilter), by split-K (see {@link filterSplit}).
 * x: [B, H, W, C], dy: [B, H, W, O] → [3, 3, C, O].
 */
export function conv3x3BackpropFilter(x: tf.Tensor4D, dy: tf.Tensor4D, tiling: Conv3x3Tiling = DEFAULT_TILING): tf.Tensor4D {
  const caller = 'conv3x3BackpropFilter';
  requireFloat4D(caller, 'x', x);
  requireFloat4D(caller, 'dy', dy);
  if (x.shape[0] !== dy.shape[0] || x.shape[1] !== dy.shape[1] || x.shape[2] !== dy.shape[2]) {
    throw new Error(`${caller}: x ${describeShape(x)} and dy ${describeShape(dy)} must have the same batch, height and width`);
  }
  const backend = webgpuBackend(caller);
  const [B, H, W, C] = x.shape;
  const O = dy.shape[3];
  const split = filterSplit(B, H, C, O, tiling);
  return tf.tidy(() => {
    const partial = runProgram(backend, filterPartialProgram({ batch: B, height: H, width: W, inChannels: C, outChannels: O, split, tiling }), [x, dy]);
    if (split.splits === 1) return tf.reshape(partial, [3, 3, C, O]) as tf.Tensor4D;
    return runProgram(backend, filterReduceProgram(split.splits, C, O), [partial]) as tf.Tensor4D;
  });
}

/**
 * `tf.conv2d(x, kernel, 1, 'same')` for a 3×3 kernel on the programs above,
 * differentiable with respect to x and kernel (tf.customGrad): drops into
 * tf.variableGrads / optimizer.minimize. webgpu backend only.
 */
export function conv3x3(x: tf.Tensor4D, kernel: tf.Tensor4D, tiling: Conv3x3Tiling = DEFAULT_TILING): tf.Tensor4D {
  const convolve = tf.customGrad((xArg, kernelArg, saveArg) => {
    const save = saveArg as tf.GradSaveFunc;
    const input = xArg as tf.Tensor4D;
    const weights = kernelArg as tf.Tensor4D;
    save([input, weights]);
    return {
      value: conv3x3Forward(input, weights, tiling),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [savedX, savedKernel] = saved as tf.Tensor4D[];
        const dy4 = dy as tf.Tensor4D;
        return [conv3x3BackpropInput(dy4, savedKernel, tiling), conv3x3BackpropFilter(savedX, dy4, tiling)];
      },
    };
  });
  return convolve(x, kernel) as tf.Tensor4D;
}
