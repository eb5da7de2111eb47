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
      <p data-testid="hint.cpu-throttle">
        DevTools' <em>CPU throttling</em> (Performance panel) does not make this device k times slower. It
        slows the page's main thread, and the models do not run there: WASM runs in onnxruntime's proxy worker
        and WebGPU on the GPU. Measured in this Chromium at 4× (CDP{' '}
        <code>Emulation.setCPUThrottlingRate</code>, WASM, 16 images per request, three runs): a busy loop on
        the main thread ran 4.2–4.7× slower, one in a dedicated worker 1.0–1.3×; the full model's device time
        rose 1.3–1.8× and a head's 1.9–2.2× (WebGPU on SwiftShader: 1.4–1.5× and 2.2×), from the hand-over to
        the worker on the throttled main thread more than from the model's compute. Running the models on the
        main thread would let the throttle apply, but every inference would then freeze the page and delay the
        handling of replies, which the network phase would be charged for. To play a slower device, use{' '}
        <em>Device speed (emulated)</em>: the device's model work really runs that many times, paced to that
        many times a typical single run, its other work padded alike, and every record says so.
      </p>
    </section>
  );
}
