/** Input checks shared by the evaluations (probe, kNN, few-shot, subsets, supervised): one message wording everywhere. */

/** Every label is a class index in [0, numClasses); `split` names the set in the message ("train", "support"…). */
export function validateLabels(labels: Int32Array, numClasses: number, split?: string): void {
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    if (!(y >= 0 && y < numClasses)) throw new Error(`${split ? `${split} label` : 'label'} ${y} at index ${i} is outside [0, ${numClasses})`);
  }
}

export function validateNumClasses(numClasses: number, min = 1): void {
  if (!Number.isInteger(numClasses) || numClasses < min) throw new Error(`numClasses must be an integer ≥ ${min}, got ${numClasses}`);
}
