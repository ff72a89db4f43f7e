/** Display helpers: plain numbers in, text out. */
export const percent = (x: number | undefined, digits = 1): string =>
  x === undefined || !Number.isFinite(x) ? '—' : `${(x * 100).toFixed(digits)}%`;

export const fixed = (x: number | undefined, digits = 3): string =>
  x === undefined ? '—' : Number.isFinite(x) ? x.toFixed(digits) : String(x);

export const bytes = (n: number): string =>
  n < 1024 ? `${n} B` : n < 1024 ** 2 ? `${(n / 1024).toFixed(0)} KiB` : `${(n / 1024 ** 2).toFixed(1)} MiB`;

/** Keeps at most `max` evenly spaced points (always the last), so charts stay cheap to draw on long runs. */
export function downsample<T>(points: readonly T[], max: number): T[] {
  if (points.length <= max) return points.slice();
  const stride = points.length / max;
  const out: T[] = [];
  for (let i = 0; i < max - 1; i++) out.push(points[Math.floor(i * stride)]);
  out.push(points[points.length - 1]);
  return out;
}
