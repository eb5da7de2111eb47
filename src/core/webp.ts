/**
 * Chromium's canvas WebP encoder wraps every image in the extended format with a 456-byte sRGB
 * ICC profile: for a 28×28 image that is more than twice the compressed picture (~170 B). A careful
 * client sends only the picture, so offload mode strips the container down to the simple format
 * (RIFF + one VP8/VP8L chunk), which every WebP decoder reads the same way.
 */

const ascii = (bytes: Uint8Array, at: number) =>
  String.fromCharCode(bytes[at]!, bytes[at + 1]!, bytes[at + 2]!, bytes[at + 3]!);

function readUint32LE(bytes: Uint8Array, at: number): number {
  return (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> 0;
}

function writeUint32LE(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value & 0xff;
  bytes[at + 1] = (value >>> 8) & 0xff;
  bytes[at + 2] = (value >>> 16) & 0xff;
  bytes[at + 3] = (value >>> 24) & 0xff;
}

/**
 * Returns the simple-format WebP holding only the image chunk, or the input unchanged when it is
 * not a RIFF/WEBP file or when it needs the extended format (alpha, animation).
 */
export function stripWebpMetadata(webp: Uint8Array): Uint8Array {
  if (webp.length < 20 || ascii(webp, 0) !== 'RIFF' || ascii(webp, 8) !== 'WEBP') return webp;
  let image: { at: number; size: number } | null = null;
  let at = 12;
  while (at + 8 <= webp.length) {
    const id = ascii(webp, at);
    const size = readUint32LE(webp, at + 4);
    if (at + 8 + size > webp.length) return webp;
    if (id === 'ALPH' || id === 'ANIM' || id === 'ANMF') return webp;
    if (id === 'VP8 ' || id === 'VP8L') image = { at, size };
    at += 8 + size + (size & 1);
  }
  if (!image) return webp;
  const chunkBytes = 8 + image.size + (image.size & 1);
  const out = new Uint8Array(12 + chunkBytes);
  out.set(webp.subarray(0, 12));
  writeUint32LE(out, 4, 4 + chunkBytes);
  out.set(webp.subarray(image.at, image.at + 8 + image.size), 12);
  return out;
}
