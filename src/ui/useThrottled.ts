import { useEffect, useRef, useState } from 'react';

/**
 * When a throttled value changed at `now` is next shown: at least `ms` after
 * the last showing, and on this chart's slot of a shared clock, the times
 * t ≡ phase (mod ms). Charts given different phases never redraw in the same
 * task, so each main-thread task holds one chart's redraw, not all of them.
 */
export function nextRedrawAt(now: number, lastShown: number, ms: number, phase: number): number {
  const earliest = Math.max(now, lastShown + ms);
  return Math.ceil((earliest - phase) / ms) * ms + phase;
}

/**
 * `value`, but passed on at most once every `ms` milliseconds, on the slot
 * given by `phase` (see nextRedrawAt); the latest value wins and none is lost
 * at the end. Always from a timer of its own: a redraw never shares a task
 * with the store update that caused it, nor with another chart's redraw.
 * While `active` is false (the chart is off screen) the last value is held;
 * the latest one is passed on at the next slot after it turns true.
 */
export function useThrottled<T>(value: T, ms: number, phase = 0, active = true): T {
  const [shown, setShown] = useState(value);
  const lastShown = useRef(-Infinity);
  useEffect(() => {
    if (!active || Object.is(value, shown)) return undefined;
    const now = performance.now();
    const at = nextRedrawAt(now, lastShown.current, ms, phase);
    const timer = setTimeout(() => {
      lastShown.current = at; // the slot, not the (slightly later) moment the timer fired: no drift off the grid
      setShown(value);
    }, at - now);
    return () => clearTimeout(timer);
  }, [value, shown, ms, phase, active]);
  return shown;
}
