import { useAppStore } from '../app/store';
import { THROTTLE_QUANTUM_BYTES } from '../core/stats';

export function ThrottleHint() {
  const imagesPerRequest = useAppStore((state) => state.settings.imagesPerRequest);
  return (
    <section className="card hint" aria-label="How to throttle" data-testid="hint.throttle">
      <h2>How to throttle</h2>
      <ol>
        <li>
          Open DevTools (F12) → <em>Network</em> → throttling menu → a preset, or <em>Add…</em> a custom
          profile with an upload speed such as 256 kbit/s.
        </li>
        <li>
          On a phone: enable USB debugging, open <code>chrome://inspect</code> on a computer, <em>inspect</em>{' '}
          the page and throttle there.
        </li>
      </ol>
      <p data-testid="hint.quantum">
        Chrome's throttle charges every WebSocket message whole {THROTTLE_QUANTUM_BYTES}-byte quanta and adds
        no latency to WebSocket frames. One 28×28 image (PNG ≈ 510 B) and its 49-byte bottleneck therefore
        cost the same single quantum: at 1 image per request split and offload take the same time on the wire.
        Send several images per request (now {imagesPerRequest}) to see the difference: at 16, PNG needs ≈ 6
        quanta and split 1.
      </p>
    </section>
  );
}
