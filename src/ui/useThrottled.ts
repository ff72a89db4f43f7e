import { useEffect, useRef, useState } from 'react';

/**
 * `value`, but passed on at most once every `ms` milliseconds (the latest one
 * wins, none is lost at the end). Charts redraw at this pace instead of at
 * every store update, so a redraw never piles onto the next.
 */
export function useThrottled<T>(value: T, ms: number): T {
  const [shown, setShown] = useState(value);
  const lastShown = useRef(0);
  useEffect(() => {
    const wait = lastShown.current + ms - performance.now();
    const show = () => {
      lastShown.current = performance.now();
      setShown(value);
    };
    if (wait <= 0) {
      show();
      return undefined;
    }
    const timer = setTimeout(show, wait);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return shown;
}
