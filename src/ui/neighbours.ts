/** Pure parts of the nearest-neighbour gallery: scores in words and how many neighbours share the query's class. */

/** How many of the neighbours have the query's class; null when the images are unlabelled. */
export function sameClassCount(queryLabel: number, neighbours: readonly { label: number }[]): number | null {
  if (queryLabel < 0) return null;
  return neighbours.filter((n) => n.label === queryLabel).length;
}

/** Cosine similarity of h (higher is closer) or Euclidean pixel distance (lower is closer), three significant digits. */
export function scoreText(score: number, kind: 'cosine' | 'distance'): string {
  if (!Number.isFinite(score)) return '—';
  const value = kind === 'cosine' ? score.toFixed(3) : String(Number(score.toPrecision(3)));
  return kind === 'cosine' ? `cos ${value}` : `dist ${value}`;
}

/** A random index in 0…count−1 (from `random`, Math.random by default), or null when there is nothing to pick. */
export function randomIndex(count: number, random: () => number = Math.random): number | null {
  if (!(count >= 1)) return null;
  return Math.min(count - 1, Math.floor(random() * count));
}
