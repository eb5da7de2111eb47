/**
 * Every mode streams real test images through the real app, and what the app reports is checked
 * against independent ground truth: the Node evaluator's answers for the same images, the
 * WebSocket frames Playwright saw, and the arithmetic of the phases.
 */
import type { Page } from '@playwright/test';
import { sumOfPhases, type InferenceRecord } from '../src/core/record';
import {
  FrameRecorder,
  RunDriver,
  SplitScopePage,
  expect,
  test,
  useBackend,
  type RunOptions,
} from './fixtures';
import { referencePredictions } from './reference';

const IMAGES = 320;
const PER_REQUEST = 16;

const CASES: { name: string; options: RunOptions; reference: string }[] = [
  { name: 'split c4 at 2 bits', options: { mode: 'split', levelId: 'c4', bits: 2 }, reference: 'c4-b2' },
  { name: 'offload PNG', options: { mode: 'offload', format: 'png' }, reference: 'full' },
  { name: 'on-device', options: { mode: 'on-device' }, reference: 'full' },
];

test.describe.configure({ mode: 'serial' });

for (const backend of ['webgpu', 'wasm'] as const) {
  // The WASM run is the exact one; it runs in the project whose Chromium has no WebGPU adapter.
  const tag = backend === 'wasm' ? ' @no-webgpu' : '';
  test.describe(`every mode on ${backend}${tag}`, () => {
    let page: Page;
    let app: SplitScopePage;
    let frames: FrameRecorder;

    test.beforeAll(async ({ browser }) => {
      page = await browser.newPage();
      app = new SplitScopePage(page);
      frames = new FrameRecorder(page);
      await app.open();
      await app.waitUntilReady(240_000);
      // On SwiftShader the page starts on WASM: the WebGPU run selects WebGPU.
      await useBackend(app, backend);
    });

    test.afterAll(async () => {
      await page.close();
    });

    for (const { name, options, reference } of CASES) {
      test(`${name}: ${IMAGES} images, answers match the Node evaluator, bytes match the frames, phases add up${tag}`, async () => {
        test.setTimeout(600_000);
        const driver = new RunDriver(app);
        await driver.configure({
          ...options,
          imagesPerRequest: PER_REQUEST,
          stopAfterImages: IMAGES,
          maxInFlight: 1,
        });
        await driver.start();
        await driver.waitForRunEnd(540_000);
        const records = (await driver.records()).filter((record) => record.mode === options.mode);
        expect(
          records.every((record) => record.ok),
          failures(records),
        ).toBe(true);
        // The controls took effect: every request ran the configuration asked for.
        const config =
          options.mode === 'split'
            ? `${options.levelId}-b${options.bits}`
            : options.mode === 'offload'
              ? options.format
              : 'full';
        expect(new Set(records.map((record) => record.config))).toEqual(new Set([config]));
        expect(records.every((record) => record.images.length === PER_REQUEST)).toBe(true);
        const images = records.flatMap((record) => record.images);
        expect(images.map((image) => image.index)).toEqual(Array.from({ length: IMAGES }, (_, i) => i));

        // Answers: per image against the evaluator running the same ONNX files in Node.
        const { labels, predictions, margins } = await referencePredictions(IMAGES);
        const expected = predictions[reference]!;
        const margin = margins[reference]!;
        const differing = images.filter((image) => image.predicted !== expected[image.index]);
        const listing = differing
          .map(
            (image) =>
              `#${image.index}: label ${image.label}, app ${image.predicted} (confidence ${image.confidence.toFixed(4)}), evaluator ${expected[image.index]} (margin top-1 minus top-2 logit ${margin[image.index]!.toFixed(4)})`,
          )
          .join('\n');
        if (differing.length > 0)
          console.warn(`${name} on ${backend}: ${differing.length} images differ\n${listing}`);
        const appCorrect = images.filter((image) => image.predicted === image.label).length;
        const referenceCorrect = images.filter(
          (image) => expected[image.index] === labels[image.index],
        ).length;
        // Offload runs the same file on the same onnxruntime-node as the evaluator: always exact.
        if (backend === 'wasm' || options.mode === 'offload') {
          expect(differing, listing).toEqual([]);
          expect(appCorrect).toBe(referenceCorrect);
        } else {
          // WebGPU float rounding can flip a code at a quantization boundary: at most 1 in 200.
          expect(differing.length, listing).toBeLessThanOrEqual(Math.floor(IMAGES / 200));
          expect(Math.abs(appCorrect - referenceCorrect)).toBeLessThanOrEqual(differing.length);
        }

        // Bytes: what the app reports is exactly what went out on the WebSocket.
        for (const record of records) {
          if (options.mode === 'on-device') {
            expect(record.wireBytes).toBe(0);
            continue;
          }
          expect(record.wireBytes, `request ${record.requestId}`).toBe(
            frames.inferBytesByRequest.get(record.requestId),
          );
          expect(record.wireBytes).toBeGreaterThan(record.payloadBytes);
        }

        // Time: the phases partition the total.
        for (const record of records) {
          expect(Math.abs(sumOfPhases(record.phases) - record.phases.totalMs)).toBeLessThan(1e-6);
          for (const [key, value] of Object.entries(record.phases)) {
            if (value !== null) expect(value, `${key} of request ${record.seq}`).toBeGreaterThanOrEqual(0);
          }
        }
        app.expectNoConsoleErrors();
      });
    }

    if (backend === 'wasm')
      test(`compare: the same images go through all three modes, each answered as the evaluator does${tag}`, async () => {
        test.setTimeout(600_000);
        const COMPARE_IMAGES = 96;
        const driver = new RunDriver(app);
        await driver.configure({
          mode: 'compare',
          levelId: 'c4',
          bits: 2,
          format: 'png',
          imagesPerRequest: PER_REQUEST,
          stopAfterImages: COMPARE_IMAGES,
          maxInFlight: 1,
        });
        await driver.start();
        await driver.waitForRunEnd(540_000);
        const records = await driver.records();
        const { predictions } = await referencePredictions(IMAGES);
        const expectedFor = { 'on-device': 'full', offload: 'full', split: 'c4-b2' } as const;
        for (const mode of ['on-device', 'offload', 'split'] as const) {
          const ofMode = records.filter((record) => record.mode === mode);
          expect(
            ofMode.every((record) => record.ok),
            failures(ofMode),
          ).toBe(true);
          const images = ofMode.flatMap((record) => record.images);
          // The same stream of test images, in the same order, in every mode.
          expect(
            images.map((image) => image.index),
            mode,
          ).toEqual(Array.from({ length: COMPARE_IMAGES }, (_, i) => i));
          const expected = predictions[expectedFor[mode]]!;
          const differing = images.filter((image) => image.predicted !== expected[image.index]);
          expect(differing, `${mode}: answers that differ from the evaluator`).toEqual([]);
          for (const record of ofMode) {
            expect(Math.abs(sumOfPhases(record.phases) - record.phases.totalMs)).toBeLessThan(1e-6);
            if (mode !== 'on-device')
              expect(record.wireBytes).toBe(frames.inferBytesByRequest.get(record.requestId));
          }
        }
        // Requests take turns: one mode's transfer never shares the link with another's.
        const network = records
          .filter((record) => record.mode !== 'on-device')
          .sort((a, b) => a.startedAt - b.startedAt);
        for (let i = 1; i < network.length; i++)
          expect(network[i]!.startedAt).toBeGreaterThanOrEqual(
            network[i - 1]!.startedAt + network[i - 1]!.phases.totalMs - 1,
          );
        app.expectNoConsoleErrors();
      });
  });
}

function failures(records: InferenceRecord[]): string {
  return records
    .filter((record) => !record.ok)
    .map((record) => `${record.seq}: ${record.failure?.reason} ${record.failure?.message}`)
    .join('\n');
}
