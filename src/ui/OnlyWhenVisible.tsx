import { useEffect, useRef, useState, type ReactNode } from 'react';

/**
 * Redraws its children only while they are on screen. Off screen it hands React the element it
 * rendered last, and React skips the subtree: a recharts redraw costs tens of milliseconds of the
 * main thread on a slow device, and nobody is looking at a chart scrolled out of view.
 */
export function OnlyWhenVisible({ children, minHeight }: { children: ReactNode; minHeight: number }) {
  const ref = useRef<HTMLDivElement>(null);
  const [visible, setVisible] = useState(true);
  const shown = useRef<ReactNode>(children);
  useEffect(() => {
    const element = ref.current;
    if (!element || typeof IntersectionObserver === 'undefined') return;
    const observer = new IntersectionObserver(
      (entries) => setVisible(entries.some((entry) => entry.isIntersecting)),
      {
        rootMargin: '100px',
      },
    );
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  // Reading and writing the ref during render is the point here: the frozen element must be the
  // very object React saw last time, so that it bails out of the subtree.
  // eslint-disable-next-line react-hooks/refs
  if (visible) shown.current = children;
  return (
    <div ref={ref} style={{ minHeight, minWidth: 0 }}>
      {/* eslint-disable-next-line react-hooks/refs */}
      {shown.current}
    </div>
  );
}
