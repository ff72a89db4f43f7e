/**
 * Pure parts of the accuracy-against-step charts (linear probe and kNN):
 * the y axis floor and why a dataset cannot be scored. Numbers in, text out.
 */

/** Bottom of the accuracy axis: 5 points under the lowest value, rounded down to 5%; 0 with no values. */
export function accuracyAxisLow(values: readonly (number | undefined)[]): number {
  const finite = values.filter((v): v is number => v !== undefined && Number.isFinite(v));
  if (finite.length === 0) return 0;
  return Math.max(0, Math.floor((Math.min(...finite) - 0.05) * 20) / 20);
}

/** What a dataset summary needs to say whether it can be scored. */
export interface ScorableDataset {
  labelled: boolean;
  testCount: number;
  /** images per class in the training split, when known: they say why there are no test images */
  trainClassCounts?: readonly number[];
}

/**
 * Why a labelled set has no test images. An upload gives each class of two
 * or more images at least one test image (data/upload/split.ts), so today
 * that means every class has a single image; a set stored by an earlier
 * version, which held none out of classes of two at a 20% share, says so.
 */
function noTestWhy(trainClassCounts: readonly number[] | undefined): string {
  const rule = 'a class needs at least two images to give one to testing';
  if (!trainClassCounts || trainClassCounts.length === 0) return rule;
  const larger = trainClassCounts.filter((n) => n >= 2).length;
  if (larger === 0) return `every class has a single image, and ${rule}`;
  return `${larger} of its ${trainClassCounts.length} classes have two or more images, but none was held out when it was stored; upload it again to split it`;
}

/**
 * Why an accuracy cannot be measured on this dataset, or null when it can.
 * `what` names the classifier ("a linear probe"), `short` the measurement ("the probe").
 */
export function unscorableReason(dataset: ScorableDataset | null, what: string, short: string): string | null {
  if (!dataset) return null;
  if (!dataset.labelled) return `This dataset has no labels (no class folders), so there is nothing for ${what} to predict. Training still works.`;
  if (dataset.testCount === 0) return `This dataset has no test images (${noTestWhy(dataset.trainClassCounts)}), so ${short} cannot be measured.`;
  return null;
}
