/** Start-up fails fast, naming the file, when the bundle is incomplete or stale. */
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ModelManifest } from '../src/core/manifest';
import { BundleError, loadBundle } from './bundle';
import { findBundle } from './testing/helpers';

const location = findBundle();
const temps: string[] = [];

/** A copy of the bundle made of symlinks, with an edited manifest. */
function copyBundle(
  edit: (m: ModelManifest) => void,
  dropTail = false,
): { publicDir: string; serverDir: string } {
  const root = mkdtempSync(path.join(os.tmpdir(), 'splitscope-bundle-'));
  temps.push(root);
  const publicDir = path.join(root, 'public');
  const serverDir = path.join(root, 'server');
  for (const [from, to] of [
    [location!.publicDir, publicDir],
    [location!.serverDir, serverDir],
  ] as const) {
    rmSync(to, { recursive: true, force: true });
    mkdirSync(to);
    for (const file of readdirSync(from)) {
      if (file === 'manifest.json') continue;
      if (dropTail && from === location!.serverDir && file.startsWith('tail-')) continue;
      symlinkSync(path.join(from, file), path.join(to, file));
    }
  }
  const manifest = JSON.parse(
    readFileSync(path.join(location!.publicDir, 'manifest.json'), 'utf8'),
  ) as ModelManifest;
  edit(manifest);
  writeFileSync(path.join(publicDir, 'manifest.json'), JSON.stringify(manifest));
  return { publicDir, serverDir };
}

afterAll(() => temps.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

describe.skipIf(!location)('loadBundle fails fast with a clear message', () => {
  it('when the manifest is missing', async () => {
    await expect(loadBundle({ publicDir: '/nonexistent', serverDir: '/nonexistent' })).rejects.toThrow(
      /manifest not found: \/nonexistent/,
    );
  });

  it('when a file size differs from the manifest', async () => {
    const dirs = copyBundle((m) => (m.full.bytes += 1));
    await expect(loadBundle(dirs)).rejects.toThrow(BundleError);
    await expect(loadBundle(dirs)).rejects.toThrow(
      /full model: .*full\.onnx is \d+ bytes but the manifest says \d+/,
    );
  });

  it('when a tail is missing', async () => {
    const dirs = copyBundle(() => undefined, true);
    await expect(loadBundle(dirs)).rejects.toThrow(/tail of level 0 \(\w+\): file missing: .*tail-/);
  });

  it('when the schema version is not ours', async () => {
    const dirs = copyBundle((m) => (m.schemaVersion = 99));
    await expect(loadBundle(dirs)).rejects.toThrow(/schemaVersion 99/);
  });

  it('when a measured split-with-exit or WebP entry is malformed', async () => {
    const exit = copyBundle((m) => (m.splitWithExit![0]!.coverage += 0.01));
    await expect(loadBundle(exit)).rejects.toThrow(/splitWithExit\[0\]: coverage must equal exited \/ total/);
    const webp = copyBundle((m) => (m.webpOffload![0]!.quality = 0));
    await expect(loadBundle(webp)).rejects.toThrow(/webpOffload\[0\]: quality must be an integer/);
  });
});

describe.skipIf(!location)('onnxruntime in a worker thread (--inference worker)', () => {
  it('gives bit-identical logits to the main-thread sessions', async () => {
    const main = await loadBundle(location!, { worker: false });
    const worker = await loadBundle(location!, { worker: true });
    try {
      const images = Float32Array.from({ length: 3 * 784 }, (_, i) => ((i * 7919) % 256) / 255);
      expect(Array.from(await worker.full.run(images, 3))).toEqual(
        Array.from(await main.full.run(images, 3)),
      );
      const elements = main.manifest.levels[0]!.elements;
      const z = Float32Array.from({ length: 2 * elements }, (_, i) => (i % 4) / 3);
      expect(Array.from(await worker.tails[0]!.run(z, 2))).toEqual(
        Array.from(await main.tails[0]!.run(z, 2)),
      );
      // The caller's buffer is not transferred away.
      expect(images.length).toBe(3 * 784);
    } finally {
      await Promise.all([main.close(), worker.close()]);
    }
  });
});
