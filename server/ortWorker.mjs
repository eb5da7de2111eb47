/**
 * onnxruntime-node runs a session synchronously on the calling thread (its async run() only
 * defers to setImmediate), so inference on the main thread would stall socket.io for every
 * client while a batch computes. This worker owns the sessions instead; the main thread keeps
 * decoding, acking and batching while it computes, and the two use two cores.
 *
 * Plain JavaScript so that it loads the same way under tsx, Vitest and node.
 *
 * Messages in:  { type: 'load', id, models: [{ name, file, input, output, dims, threads }] }
 *               { type: 'run', id, name, input: Float32Array, count }
 *               { type: 'release', id }
 * Messages out: { type: 'done', id, data?: Float32Array } | { type: 'error', id, message }
 */
import { parentPort } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';

/** @type {Map<string, { session: ort.InferenceSession, input: string, output: string, dims: number[] }>} */
const sessions = new Map();

function reply(message, transfer) {
  parentPort.postMessage(message, transfer);
}

parentPort.on('message', async (message) => {
  const { id } = message;
  try {
    if (message.type === 'load') {
      for (const model of message.models) {
        const session = await ort.InferenceSession.create(model.file, {
          executionProviders: ['cpu'],
          intraOpNumThreads: model.threads,
          interOpNumThreads: 1,
          graphOptimizationLevel: 'all',
        });
        sessions.set(model.name, { session, input: model.input, output: model.output, dims: model.dims });
      }
      reply({ type: 'done', id });
    } else if (message.type === 'run') {
      const entry = sessions.get(message.name);
      if (!entry) throw new Error(`no session named ${message.name}`);
      const tensor = new ort.Tensor('float32', message.input, [message.count, ...entry.dims]);
      const outputs = await entry.session.run({ [entry.input]: tensor });
      const output = outputs[entry.output];
      if (!output) throw new Error(`${message.name}: no output named ${entry.output}`);
      if (!(output.data instanceof Float32Array))
        throw new Error(`${message.name}: output is ${output.type}, not float32`);
      // Copy: onnxruntime's output buffer may not be transferable; logits are tiny.
      const data = new Float32Array(output.data);
      reply({ type: 'done', id, data }, [data.buffer]);
    } else if (message.type === 'release') {
      await Promise.all([...sessions.values()].map((entry) => entry.session.release()));
      sessions.clear();
      reply({ type: 'done', id });
    }
  } catch (error) {
    reply({ type: 'error', id, message: error instanceof Error ? error.message : String(error) });
  }
});
