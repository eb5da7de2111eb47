/**
 * Runs one ONNX file on raw float32 inputs: the bridge the Python export test uses to compare
 * onnxruntime with PyTorch (Python has no onnxruntime here).
 *
 *   npx tsx server/eval/runOnnx.ts spec.json
 *
 * spec.json: { "model": "m.onnx", "inputs": [{ "name": "image", "file": "x.bin", "dims": [2,1,28,28] }],
 *              "outDir": "dir" }
 * Writes <outDir>/<output>.bin (little-endian float32) for every output and <outDir>/outputs.json
 * with { name: dims }.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';

interface Spec {
  model: string;
  inputs: { name: string; file: string; dims: number[] }[];
  outDir: string;
}

export async function runOnnx(spec: Spec): Promise<Record<string, number[]>> {
  const session = await ort.InferenceSession.create(spec.model, { intraOpNumThreads: 1 });
  const feeds: Record<string, ort.Tensor> = {};
  for (const input of spec.inputs) {
    const buf = await fs.readFile(input.file);
    const data = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
    feeds[input.name] = new ort.Tensor('float32', data, input.dims);
  }
  const result = await session.run(feeds);
  await fs.mkdir(spec.outDir, { recursive: true });
  const shapes: Record<string, number[]> = {};
  for (const name of session.outputNames) {
    const t = result[name]!;
    const data = t.data as Float32Array;
    await fs.writeFile(
      path.join(spec.outDir, `${name}.bin`),
      Buffer.from(data.buffer, data.byteOffset, data.byteLength),
    );
    shapes[name] = [...t.dims];
  }
  await fs.writeFile(path.join(spec.outDir, 'outputs.json'), JSON.stringify(shapes));
  await session.release();
  return shapes;
}

const specFile = process.argv[2];
if (!specFile) {
  console.error('usage: tsx server/eval/runOnnx.ts spec.json');
  process.exit(2);
}
runOnnx(JSON.parse(await fs.readFile(specFile, 'utf8')) as Spec).then(
  () => process.exit(0),
  (error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
