/**
 * Offload mode's image encoders: what a camera app would send instead of features.
 * PNG is a true 8-bit greyscale PNG (fast-png), as a careful client would send it; WebP comes from
 * the browser's own encoder through OffscreenCanvas, since no other WebP encoder ships to the page,
 * without the ICC profile Chromium attaches to it.
 */
import { encode as encodePng } from 'fast-png';
import type { ImageFormat } from '../core/record';
import { stripWebpMetadata } from '../core/webp';

export const IMAGE_SIDE = 28;
const PIXELS = IMAGE_SIDE * IMAGE_SIDE;

export function encodeGreyPng(pixels: Uint8Array): Uint8Array {
  return encodePng({ width: IMAGE_SIDE, height: IMAGE_SIDE, data: pixels, channels: 1, depth: 8 });
}

let canvas: OffscreenCanvas | null = null;

export async function encodeWebp(pixels: Uint8Array, quality: number): Promise<Uint8Array> {
  canvas ??= new OffscreenCanvas(IMAGE_SIDE, IMAGE_SIDE);
  // Opaque, so the encoder writes no alpha channel: a grey image has none.
  const context = canvas.getContext('2d', { alpha: false });
  if (!context) throw new Error('OffscreenCanvas 2d context unavailable');
  const rgba = new ImageData(IMAGE_SIDE, IMAGE_SIDE);
  for (let i = 0; i < PIXELS; i++) {
    const value = pixels[i]!;
    rgba.data[i * 4] = value;
    rgba.data[i * 4 + 1] = value;
    rgba.data[i * 4 + 2] = value;
    rgba.data[i * 4 + 3] = 255;
  }
  context.putImageData(rgba, 0, 0);
  const blob = await canvas.convertToBlob({ type: 'image/webp', quality: quality / 100 });
  if (blob.type !== 'image/webp') throw new Error(`this browser cannot encode WebP (got ${blob.type})`);
  return stripWebpMetadata(new Uint8Array(await blob.arrayBuffer()));
}

export async function encodeImage(
  pixels: Uint8Array,
  format: ImageFormat,
  webpQuality: number,
): Promise<Uint8Array> {
  if (pixels.length !== PIXELS) throw new Error(`expected ${PIXELS} pixels, got ${pixels.length}`);
  switch (format) {
    case 'png':
      return encodeGreyPng(pixels);
    case 'webp':
      return encodeWebp(pixels, webpQuality);
    case 'raw':
      return pixels.slice();
  }
}
