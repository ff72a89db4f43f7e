/**
 * What the pretext tasks' catalog entries share (src/core/pretext/<id>.ts):
 * the task accuracy every classification task reports, and the reference
 * line of a head that guesses uniformly among K classes, log K.
 */
import type { MethodEntry, MetricSpec } from '../methods';

/** The head's accuracy on the batch's task (rotation, position, permutation, exemplar class). */
export const taskAccuracy = (help: string): MetricSpec => ({
  key: 'taskAccuracy', label: 'task accuracy', unit: 'fraction', testId: 'metric-task-accuracy', help,
});

/** The loss chart's line for a K-way classification task: a uniform guess scores log K. */
export function uniformGuessReference(formula: string, classes: (settings: Parameters<NonNullable<MethodEntry['reference']>['value']>[0]) => number, caption: string): NonNullable<MethodEntry['reference']> {
  return {
    formula,
    value: (settings) => Math.log(classes(settings)),
    caption,
  };
}
