/**
 * Runs the shared TypeScript codec on test vectors for the Python tests (training/tests), which
 * check that the PyTorch quantization produces exactly the same codes, bytes and values.
 *
 *   npx tsx server/eval/codecVectors.ts values.bin bits outDir
 *
 * values.bin: little-endian float32. Writes outDir/codes.bin (uint8), outDir/packed.bin and
 * outDir/dequantized.bin (float32, from unpacking the packed bytes).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { decodeBottleneck, pack, quantize } from '../../src/core/codec.ts';

const [valuesFile, bitsArg, outDir] = process.argv.slice(2);
if (!valuesFile || !bitsArg || !outDir) {
  console.error('usage: tsx server/eval/codecVectors.ts values.bin bits outDir');
  process.exit(2);
}
const buf = await fs.readFile(valuesFile);
const values = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
const bits = Number(bitsArg);
const codes = quantize(values, bits);
const packed = pack(codes, bits);
const deq = decodeBottleneck(packed, values.length, bits);
await fs.mkdir(outDir, { recursive: true });
await fs.writeFile(path.join(outDir, 'codes.bin'), codes);
await fs.writeFile(path.join(outDir, 'packed.bin'), packed);
await fs.writeFile(
  path.join(outDir, 'dequantized.bin'),
  Buffer.from(deq.buffer, deq.byteOffset, deq.byteLength),
);
