import { useEffect, useRef, useState } from 'react';

/** `value`, but changing at most once per `intervalMs` (the latest value wins). */
export function useThrottled<T>(value: T, intervalMs: number): T {
  const [shown, setShown] = useState(value);
  const lastAt = useRef(0);
  useEffect(() => {
    const wait = lastAt.current + intervalMs - performance.now();
    const timer = setTimeout(
      () => {
        lastAt.current = performance.now();
        setShown(value);
      },
      Math.max(0, wait),
    );
    return () => clearTimeout(timer);
  }, [value, intervalMs]);
  return shown;
}
