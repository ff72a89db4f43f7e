/**
 * Seeded pseudo-random numbers (mulberry32). Every random choice in the
 * playground — batch sampling, augmentation parameters, weight init — draws
 * from one of these so that a run is reproducible from its seed.
 */
export type Rng = () => number;

/**
 * A generator whose whole state is one 32-bit number: a checkpoint saves it
 * with `state()` and a resumed run continues the same stream after
 * `restore(state)` (src/train/checkpoint.ts).
 */
export interface SeededRng extends Rng {
  state(): number;
  restore(state: number): void;
}

/** mulberry32: a 32-bit state PRNG, uniform in [0, 1). */
export function createRng(seed: number): SeededRng {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Object.assign(next, {
    state: () => state,
    restore(saved: number) {
      if (!Number.isInteger(saved) || saved < 0 || saved > 0xffffffff) throw new Error(`A random-number state must be a whole number from 0 to 2³² − 1; got ${saved}.`);
      state = saved >>> 0;
    },
  });
}

/** Uniform in [lo, hi). */
export function uniform(rng: Rng, lo: number, hi: number): number {
  return lo + (hi - lo) * rng();
}

/** Standard normal by Box–Muller. */
export function normal(rng: Rng): number {
  const u = Math.max(rng(), 1e-12);
  const v = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Fisher–Yates shuffle of 0..n-1. */
export function permutation(rng: Rng, n: number): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}
