/**
 * WebP offload as the page runs it, in Node: each test image encoded as Chromium's canvas encodes
 * it, stripped to the simple format as the page strips it (src/core/webp.ts), and decoded as the
 * tail server decodes it (server/socketHandlers.ts `decodeImage`).
 *
 * The page encodes with `OffscreenCanvas.convertToBlob({ type: 'image/webp', quality: q / 100 })`.
 * Chromium hands that to Skia's WebP encoder (src/encode/SkWebpEncoderImpl.cpp), which calls
 * libwebp with `WebPConfigPreset(WEBP_PRESET_DEFAULT, q)`, lossy, `method = 3`, YUV input
 * (`use_argb = 0`) imported from the opaque RGBA pixels, no sharp-YUV. Chromium bundles its own
 * libwebp and no Node binding reaches it, so this encodes with sharp's libwebp at exactly those
 * settings: a grey image has R = G = B, so RGB import gives the same YUV as opaque RGBA import.
 * Checked against the page: on test images 0-95 it gives 22,096 bytes in all (230.17 B per image)
 * and 85 correct, exactly what the page's records in bench/results/e2e.md (webp-q50, Chromium 156)
 * measured. Byte-identical output on every image is not proven, since that needs Chromium.
 */
import sharp from 'sharp';
import { stripWebpMetadata } from '../../src/core/webp.ts';
import { decodeImage } from '../socketHandlers.ts';

export const IMAGE_SIDE = 28;
const PIXELS = IMAGE_SIDE * IMAGE_SIDE;

/** Skia's lossy WebP method (libwebp's effort), the one Chromium's canvas encoder uses. */
export const CHROMIUM_WEBP_METHOD = 3;

export function webpEncoderDescription(): string {
  return (
    `libwebp ${sharp.versions.webp ?? '?'} (sharp ${sharp.versions.sharp ?? '?'}) at Chromium's canvas ` +
    `settings: preset default, lossy, method ${CHROMIUM_WEBP_METHOD}, YUV 4:2:0 without sharp-YUV; ` +
    `stripped to the simple format; decoded by the tail server's decodeImage`
  );
}

/** One 28×28 grey image (bytes) → the WebP bytes the page would send at `quality` (1..100). */
export async function encodeWebpAsPage(grey: Uint8Array, quality: number): Promise<Uint8Array> {
  if (grey.length !== PIXELS) throw new Error(`expected ${PIXELS} pixels, got ${grey.length}`);
  const rgb = Buffer.alloc(PIXELS * 3);
  for (let i = 0; i < PIXELS; i++) rgb[i * 3] = rgb[i * 3 + 1] = rgb[i * 3 + 2] = grey[i]!;
  const encoded = await sharp(rgb, { raw: { width: IMAGE_SIDE, height: IMAGE_SIDE, channels: 3 } })
    .webp({ quality, effort: CHROMIUM_WEBP_METHOD, smartSubsample: false, preset: 'default' })
    .toBuffer();
  return stripWebpMetadata(new Uint8Array(encoded.buffer, encoded.byteOffset, encoded.byteLength));
}

export interface WebpRoundTrip {
  /** count × 784 float32 pixels, byte/255, as the tail server feeds the full model. */
  pixels: Float32Array;
  /** Bytes of each encoded image as sent. */
  bytes: Uint32Array;
}

/** Encodes `count` images of `raw` (count × 784 bytes) as the page does and decodes them as the server does. */
export async function webpRoundTrip(
  raw: Uint8Array,
  count: number,
  quality: number,
  concurrency = 16,
): Promise<WebpRoundTrip> {
  const pixels = new Float32Array(count * PIXELS);
  const bytes = new Uint32Array(count);
  for (let start = 0; start < count; start += concurrency) {
    const end = Math.min(count, start + concurrency);
    const jobs: Promise<void>[] = [];
    for (let i = start; i < end; i++)
      jobs.push(
        (async () => {
          const webp = await encodeWebpAsPage(raw.subarray(i * PIXELS, (i + 1) * PIXELS), quality);
          bytes[i] = webp.length;
          const grey = await decodeImage(webp, 'webp', i);
          for (let p = 0; p < PIXELS; p++) pixels[i * PIXELS + p] = grey[p]! / 255;
        })(),
      );
    await Promise.all(jobs);
  }
  return { pixels, bytes };
}
