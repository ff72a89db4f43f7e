/**
 * SimCLR's augmentation family T as data: an ordered list of operators, each
 * with an enabled switch, a probability and its parameters. A pipeline is
 * plain JSON, so it lives in the experiment config (and the URL); the
 * previewer and the training loop both run it through `applyPipeline`, so what
 * the user sees is what trains.
 */

export type OperatorKind =
  | 'crop' | 'flip' | 'colorJitter' | 'grayscale' | 'blur' | 'rotate' | 'cutout' | 'noise' | 'sobel';

interface OperatorBase {
  kind: OperatorKind;
  enabled: boolean;
  /** probability that the operator is applied to a view, in [0, 1] */
  p: number;
}

/** Random resized crop (always applied when enabled; p is ignored and kept at 1). */
export interface CropOperator extends OperatorBase {
  kind: 'crop';
  /** area fraction range, 0 < min ≤ max ≤ 1 */
  scale: [number, number];
  /** aspect-ratio range (w/h), log-uniform, 0 < min ≤ max */
  ratio: [number, number];
}
export interface FlipOperator extends OperatorBase { kind: 'flip' }
/** SimCLR's colour distortion: brightness 0.8s, contrast 0.8s, saturation 0.8s, hue 0.2s, in random order. */
export interface ColorJitterOperator extends OperatorBase {
  kind: 'colorJitter';
  /** s ≥ 0 */
  strength: number;
}
export interface GrayscaleOperator extends OperatorBase { kind: 'grayscale' }
/** Gaussian blur, kernel about 10% of the image side, σ ~ U[sigma]. */
export interface BlurOperator extends OperatorBase {
  kind: 'blur';
  /** σ range in px of the output view, 0 ≤ min ≤ max */
  sigma: [number, number];
}
/** Rotation by a uniformly drawn multiple of 90°. */
export interface RotateOperator extends OperatorBase { kind: 'rotate' }
/** Cutout: `count` squares of side `size` × image side set to the image mean... */
export interface CutoutOperator extends OperatorBase {
  kind: 'cutout';
  /** number of squares, integer 1..8 */
  count: number;
  /** side of each square as a fraction of the image side, 0 < size ≤ 1 */
  size: number;
}
/** Additive Gaussian noise N(0, σ²) per pixel, clipped to [0, 1]. */
export interface NoiseOperator extends OperatorBase {
  kind: 'noise';
  /** σ ≥ 0 in intensity units */
  sigma: number;
}
/** Sobel edge magnitude (per channel), scaled into [0, 1]. */
export interface SobelOperator extends OperatorBase { kind: 'sobel' }

export type AugmentOperator =
  | CropOperator | FlipOperator | ColorJitterOperator | GrayscaleOperator | BlurOperator
  | RotateOperator | CutoutOperator | NoiseOperator | SobelOperator;

export interface AugmentPipeline {
  /** side of the square views, px */
  outputSize: number;
  operators: AugmentOperator[];
}
