import { useEffect, useRef } from 'react';
import { useAppStore } from '../app/store';
import { useEngine } from './engineContext';
import { MODE_LABELS } from './format';
import { useThrottled } from './useThrottled';

const SCALE = 4;
/**
 * The current image changes up to 50 times a second, faster than anyone can read it, and each
 * change redraws two canvases that the browser must upload and composite (measured: a large
 * share of a slow device's compositor time). Four times a second is plenty to watch.
 */
const CURRENT_IMAGE_INTERVAL_MS = 250;

function drawGrey(
  canvas: HTMLCanvasElement,
  pixels: ArrayLike<number>,
  width: number,
  height: number,
  max: number,
) {
  const context = canvas.getContext('2d');
  if (!context) return;
  const image = context.createImageData(width, height);
  for (let i = 0; i < width * height; i++) {
    const value = Math.round((pixels[i]! / max) * 255);
    image.data[i * 4] = value;
    image.data[i * 4 + 1] = value;
    image.data[i * 4 + 2] = value;
    image.data[i * 4 + 3] = 255;
  }
  context.putImageData(image, 0, 0);
}

/** Heat map of one image's bottleneck codes: one tile per channel. */
function Codes({ codes }: { codes: { values: number[]; shape: [number, number, number]; bits: number } }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const [channels, height, width] = codes.shape;
  useEffect(() => {
    const canvas = ref.current;
    const context = canvas?.getContext('2d');
    if (!canvas || !context) return;
    const levels = (1 << codes.bits) - 1;
    const image = context.createImageData(width * channels + (channels - 1), height);
    image.data.fill(255);
    for (let c = 0; c < channels; c++) {
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          const value = codes.values[c * height * width + y * width + x]! / levels;
          const at = (y * image.width + c * (width + 1) + x) * 4;
          // Dark indigo for 0 to warm yellow for the top code.
          image.data[at] = Math.round(30 + 225 * value);
          image.data[at + 1] = Math.round(27 + 190 * value);
          image.data[at + 2] = Math.round(75 + 30 * (1 - value));
          image.data[at + 3] = 255;
        }
      }
    }
    // Resizing a canvas reallocates it; the shape only changes with the level.
    if (canvas.width !== image.width) canvas.width = image.width;
    if (canvas.height !== image.height) canvas.height = image.height;
    context.putImageData(image, 0, 0);
  }, [codes, channels, height, width]);
  return (
    <figure>
      {/* 64 px tall, unless that is wider than the card (c8's eight tiles on a phone): then as wide
          as the card, at the same aspect. */}
      <canvas
        ref={ref}
        className="pixelated codes"
        data-testid="current.codes"
        style={{ width: `min(100%, ${Math.round((64 * (width * channels + channels - 1)) / height)}px)` }}
      />
      <figcaption className="muted small">
        bottleneck codes, {channels}×{height}×{width} at {codes.bits} bit
      </figcaption>
    </figure>
  );
}

export function CurrentImage() {
  const engine = useEngine();
  const lastImage = useThrottled(
    useAppStore((state) => state.live.lastImage),
    CURRENT_IMAGE_INTERVAL_MS,
  );
  const classes = useAppStore((state) => state.manifest?.classes);
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (!lastImage || !ref.current) return;
    const pixels = engine.pixelsOf(lastImage.index);
    if (pixels) drawGrey(ref.current, pixels, 28, 28, 255);
  }, [engine, lastImage]);
  if (!lastImage) {
    return (
      <section className="card current" aria-label="Current image">
        <h2>Current image</h2>
        <p className="muted">Press Start or Step to stream test images.</p>
      </section>
    );
  }
  const correct = lastImage.predicted === lastImage.label;
  const name = (index: number) => classes?.[index] ?? String(index);
  return (
    <section className="card current" aria-label="Current image" data-testid="current">
      <h2>Current image</h2>
      <div className="row">
        <figure>
          <canvas
            ref={ref}
            width={28}
            height={28}
            className="pixelated"
            style={{ width: 28 * SCALE, height: 28 * SCALE }}
          />
          <figcaption className="muted small">test image #{lastImage.index}</figcaption>
        </figure>
        <div>
          <p>
            True: <strong data-testid="current.label">{name(lastImage.label)}</strong>
          </p>
          <p className={correct ? 'ok' : 'warning'}>
            Predicted:{' '}
            <strong data-testid="current.predicted">
              {lastImage.predicted >= 0 ? name(lastImage.predicted) : '–'}
            </strong>{' '}
            ({(lastImage.confidence * 100).toFixed(1)}%)
          </p>
          <p className="muted small">
            {MODE_LABELS[lastImage.mode]} · {lastImage.config}
          </p>
        </div>
        {lastImage.codes && <Codes codes={lastImage.codes} />}
      </div>
    </section>
  );
}
