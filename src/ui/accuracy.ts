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
}

/**
 * Why an accuracy cannot be measured on this dataset, or null when it can.
 * `what` names the classifier ("a linear probe"), `short` the measurement ("the probe").
 */
export function unscorableReason(dataset: ScorableDataset | null, what: string, short: string): string | null {
  if (!dataset) return null;
  if (!dataset.labelled) return `This dataset has no labels (no class folders), so there is nothing for ${what} to predict. Training still works.`;
  if (dataset.testCount === 0) return `This dataset has no test images (every class has a single image), so ${short} cannot be measured.`;
  return null;
}
