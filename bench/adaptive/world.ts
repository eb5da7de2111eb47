/**
 * The simulator's measured world (src/core/simulator.ts, MeasuredWorld) from the records of short
 * unthrottled static runs of the real page, and its JSON form, so that a simulation can be re-run
 * from a saved world without measuring again.
 *
 * From each record at slowdown 1 (the first `skipFirst` of every config are dropped: warm-up):
 * - device runs: on-device records give "full@k"; split records without exit "head-<level>@k";
 *   split records with an exit run head then exit, so "exit-<level>@k" is their device time minus
 *   the median head time of that level (clamped at 0);
 * - encode per image sent: split → "codes", offload → its config ("png", "webp-q50");
 * - server queue + compute by server model and images sent ("tail-c4@16", "offload-png@16"); a
 *   count no record measured for a tail (an exit sends any number from 1 to k) is filled from the
 *   nearest measured counts, scaled by linear interpolation of their medians, and listed as such;
 * - wire bytes: payload per image (splits: packed codes from the manifest; offload: the mean
 *   measured) × images sent + the framing measured per mode and count;
 * - downlink and hand-over overhead of every networked request.
 *
 * The simulator multiplies a 1× device run by the slowdown; the page instead runs the model k times
 * paced to k × the median of its recent single runs (src/core/slowdownPacer.ts), so a 1× run slowed by a scheduling hiccup becomes k hiccups
 * in the simulation but one in the page. Records at another slowdown k (short static runs at k)
 * therefore give that slowdown its own device runs, divided by k (`deviceMsBySlowdown`), which the
 * simulator multiplies back: its device times at k are then the ones measured at k.
 */
import type { MeasuredWorld } from '../../src/core/simulator';
import type { InferenceRecord } from '../../src/core/record';
import { median } from '../../src/core/stats';

export interface WorldJson {
  imagesPerRequest: number;
  deviceMs: Record<string, number[]>;
  /** Device runs measured at slowdown k, divided by k, by String(k) (absent: 1× runs × k). */
  deviceMsBySlowdown?: Record<string, Record<string, number[]>>;
  encodeMsPerImage: Record<string, number[]>;
  serverMs: Record<string, number[]>;
  /** Payload bytes per image, by config without exit ("png", "webp-q50", "c4-b2"). */
  payloadPerImage: Record<string, number>;
  /** Wire bytes minus payload bytes, by mode, and by `${mode}@${sent}` where measured. */
  framingBytes: Record<string, number>;
  downlinkMs: number[];
  overheadMs: number[];
  /** Keys derived rather than measured as such, with how. */
  derived: Record<string, string>;
  /** Records used per config. */
  recordsPerConfig: Record<string, number>;
}

export interface WorldOptions {
  imagesPerRequest: number;
  /** Packed code bytes per image for every split config without exit ("c4-b2" → 49). */
  splitPayloadPerImage: Record<string, number>;
  /** Records dropped at the start of each config's run (default 2). */
  skipFirst?: number;
}

const push = (table: Record<string, number[]>, key: string, value: number) => {
  if (!Number.isFinite(value)) return;
  (table[key] ??= []).push(value);
};

/** "c4-b2-x0.9" → { level: "c4", base: "c4-b2", exit: true }. */
export function parseSplitConfig(config: string): { level: string; base: string; exit: boolean } | null {
  const match = /^([^-]+)-b(\d+)(-x[\d.]+)?$/.exec(config);
  if (!match) return null;
  return { level: match[1]!, base: `${match[1]}-b${match[2]}`, exit: match[3] !== undefined };
}

export function worldFromRecords(records: readonly InferenceRecord[], options: WorldOptions): WorldJson {
  const k = options.imagesPerRequest;
  const skip = options.skipFirst ?? 2;
  const byConfig = new Map<string, InferenceRecord[]>();
  for (const record of records) {
    if (!record.ok || (record.slowdown ?? 1) !== 1 || record.images.length !== k) continue;
    const list = byConfig.get(record.config) ?? [];
    list.push(record);
    byConfig.set(record.config, list);
  }
  const used = new Map<string, InferenceRecord[]>();
  for (const [config, list] of byConfig) {
    const sorted = [...list].sort((a, b) => a.seq - b.seq);
    used.set(config, sorted.slice(Math.min(skip, Math.max(0, sorted.length - 1))));
  }
  const deviceMs: Record<string, number[]> = {};
  const encodeMsPerImage: Record<string, number[]> = {};
  const serverMs: Record<string, number[]> = {};
  const framing: Record<string, number[]> = {};
  const offloadPayload: Record<string, number[]> = {};
  const downlinkMs: number[] = [];
  const overheadMs: number[] = [];
  const exitDevice: { level: string; ms: number }[] = [];
  const derived: Record<string, string> = {};

  for (const [config, list] of used) {
    for (const record of list) {
      const p = record.phases;
      const sent = record.images.filter((image) => !image.earlyExit).length;
      const split = record.mode === 'split' ? parseSplitConfig(config) : null;
      if (record.mode === 'on-device') push(deviceMs, `full@${k}`, p.deviceMs);
      else if (split && !split.exit) push(deviceMs, `head-${split.level}@${k}`, p.deviceMs);
      else if (split && split.exit) exitDevice.push({ level: split.level, ms: p.deviceMs });
      if (record.mode === 'on-device' || sent === 0 || record.requestId === 0) continue;
      const serverModel = split ? `tail-${split.level}` : `offload-${config}`;
      push(serverMs, `${serverModel}@${sent}`, p.serverQueueMs + p.serverComputeMs);
      push(encodeMsPerImage, split ? 'codes' : config, p.encodeMs / sent);
      push(framing, `${record.mode}@${sent}`, record.wireBytes - record.payloadBytes);
      push(framing, record.mode, record.wireBytes - record.payloadBytes);
      if (!split) push(offloadPayload, config, record.payloadBytes / sent);
      if (p.downlinkMs !== null) downlinkMs.push(p.downlinkMs);
      overheadMs.push(p.overheadMs);
    }
  }
  for (const { level, ms } of exitDevice) {
    const head = deviceMs[`head-${level}@${k}`];
    if (!head || head.length === 0) continue;
    push(deviceMs, `exit-${level}@${k}`, Math.max(0, ms - median(head)));
    derived[`exit-${level}@${k}`] =
      `device time of split with exit minus the median head-${level}@${k} (${median(head).toFixed(2)} ms)`;
  }
  // Tails at counts nothing measured: from the nearest measured counts.
  const tails = new Set(
    Object.keys(serverMs)
      .filter((key) => key.startsWith('tail-'))
      .map((key) => key.slice(0, key.lastIndexOf('@'))),
  );
  for (const tail of tails) {
    const measured = Object.keys(serverMs)
      .filter((key) => key.startsWith(`${tail}@`))
      .map((key) => Number(key.slice(key.lastIndexOf('@') + 1)))
      .sort((a, b) => a - b);
    const medians = new Map(measured.map((n) => [n, median(serverMs[`${tail}@${n}`]!)]));
    for (let n = 1; n <= k; n++) {
      if (medians.has(n)) continue;
      const below = measured.filter((m) => m < n).pop();
      const above = measured.find((m) => m > n);
      const nearest =
        below === undefined ? above! : above === undefined ? below : n - below <= above - n ? below : above;
      let target = medians.get(nearest)!;
      if (below !== undefined && above !== undefined)
        target =
          medians.get(below)! + ((medians.get(above)! - medians.get(below)!) * (n - below)) / (above - below);
      const scale = medians.get(nearest)! > 0 ? target / medians.get(nearest)! : 1;
      serverMs[`${tail}@${n}`] = serverMs[`${tail}@${nearest}`]!.map((ms) => ms * scale);
      derived[`${tail}@${n}`] =
        below !== undefined && above !== undefined
          ? `samples of @${nearest} scaled to the median interpolated between @${below} and @${above}`
          : `samples of @${nearest} (nearest measured count)`;
    }
  }
  const framingBytes: Record<string, number> = {};
  for (const [key, values] of Object.entries(framing)) framingBytes[key] = median(values);
  const payloadPerImage: Record<string, number> = { ...options.splitPayloadPerImage };
  for (const [config, values] of Object.entries(offloadPayload))
    payloadPerImage[config] = values.reduce((a, b) => a + b, 0) / values.length;
  return {
    imagesPerRequest: k,
    deviceMs,
    encodeMsPerImage,
    serverMs,
    payloadPerImage,
    framingBytes,
    downlinkMs,
    overheadMs,
    derived,
    recordsPerConfig: Object.fromEntries([...used].map(([config, list]) => [config, list.length])),
  };
}

/**
 * Device runs from records at slowdown `slowdown` (≠ 1), divided by it: what the simulator must
 * multiply by the slowdown to give the device times the page measured there. Exits as in
 * worldFromRecords (split with exit minus the median head, both at this slowdown).
 */
export function deviceAtSlowdown(
  records: readonly InferenceRecord[],
  options: { imagesPerRequest: number; slowdown: number; skipFirst?: number },
): { deviceMs: Record<string, number[]>; derived: Record<string, string> } {
  const k = options.imagesPerRequest;
  const at = records
    .filter(
      (record) => record.ok && (record.slowdown ?? 1) === options.slowdown && record.images.length === k,
    )
    .map((record) => ({ ...record, slowdown: 1 }));
  const world = worldFromRecords(at, {
    imagesPerRequest: k,
    splitPayloadPerImage: {},
    skipFirst: options.skipFirst,
  });
  const deviceMs: Record<string, number[]> = {};
  for (const [key, values] of Object.entries(world.deviceMs))
    deviceMs[key] = values.map((ms) => ms / options.slowdown);
  const derived: Record<string, string> = {};
  for (const key of Object.keys(deviceMs))
    derived[key] =
      `measured at ${options.slowdown}× and divided by ${options.slowdown}` +
      (world.derived[key] ? ` (${world.derived[key]})` : '');
  return { deviceMs, derived };
}

/**
 * The simulator's world from its JSON form. Samples are sorted: a draw picks a uniform index, so
 * the distribution is the same, and the oracle's median of each (it takes one per image per
 * candidate per request) is then a linear pass instead of a sort.
 */
export function measuredWorld(json: WorldJson, slowdown = 1): MeasuredWorld {
  const sorted = (values: readonly number[]) => [...values].sort((a, b) => a - b);
  const map = (table: Record<string, number[]>) =>
    new Map(Object.entries(table).map(([key, values]) => [key, sorted(values)]));
  const atSlowdown = json.deviceMsBySlowdown?.[String(slowdown)];
  return {
    deviceMs: map(atSlowdown ? { ...json.deviceMs, ...atSlowdown } : json.deviceMs),
    encodeMsPerImage: map(json.encodeMsPerImage),
    serverMs: map(json.serverMs),
    wireBytes(config, sent) {
      const perImage = json.payloadPerImage[config];
      if (perImage === undefined) throw new Error(`world: no payload size for ${config}`);
      const mode = parseSplitConfig(config) ? 'split' : 'offload';
      const frame = json.framingBytes[`${mode}@${sent}`] ?? json.framingBytes[mode];
      if (frame === undefined) throw new Error(`world: no framing measured for ${mode}`);
      return Math.round(perImage * sent + frame);
    },
    downlinkMs: sorted(json.downlinkMs),
    overheadMs: sorted(json.overheadMs),
  };
}

/** What a world lacks for the given device models, server keys and encode kinds (empty: complete). */
export function missingFromWorld(
  json: WorldJson,
  needs: { device: string[]; server: string[]; encode: string[]; payload: string[] },
): string[] {
  const missing: string[] = [];
  for (const key of needs.device) if (!json.deviceMs[key]?.length) missing.push(`device ${key}`);
  for (const key of needs.server) if (!json.serverMs[key]?.length) missing.push(`server ${key}`);
  for (const key of needs.encode) if (!json.encodeMsPerImage[key]?.length) missing.push(`encode ${key}`);
  for (const key of needs.payload)
    if (json.payloadPerImage[key] === undefined) missing.push(`payload ${key}`);
  if (json.downlinkMs.length === 0) missing.push('downlink');
  if (json.overheadMs.length === 0) missing.push('overhead');
  return missing;
}

/**
 * The world with a static run's own measured costs in place of the sitting's, for that run's
 * candidate: its records' device phases (divided by the slowdown, as `deviceMsBySlowdown` holds
 * them) as the head's or the full model's runs, with the exit at 0 (its time is in those samples,
 * which are the whole device phase); its encode time per image sent; its server time per number of
 * images sent; its downlink and hand-over times. So the run is simulated with the costs it had,
 * and its fidelity measures what the simulator models (link, throttle, exits, the request cycle),
 * not how far this shared machine drifted between the sitting's measurement and the run: WASM's
 * full model went 42, 61 and 81 ms in three sittings here, and PNG at 1× and 150 ms, a knife edge
 * of server time, was simulated 6.75 points under its live run with the sitting's costs.
 */
export function withOwnCosts(
  json: WorldJson,
  records: readonly InferenceRecord[],
  config: string,
  slowdown: number,
): WorldJson {
  const k = json.imagesPerRequest;
  const own = records.filter((record) => record.ok && record.config === config && record.images.length === k);
  if (own.length === 0) return json;
  const split = parseSplitConfig(config);
  const derived = { ...json.derived };
  const note = (key: string, count: number) => {
    derived[key] = `the run's own (${count} requests)`;
  };
  const deviceModel = config === 'full' ? 'full' : split ? `head-${split.level}` : null;
  let deviceMs = json.deviceMs;
  let deviceMsBySlowdown = json.deviceMsBySlowdown;
  if (deviceModel) {
    const replaced: Record<string, number[]> = {
      [`${deviceModel}@${k}`]: own.map((record) => record.phases.deviceMs / slowdown),
    };
    if (split?.exit) replaced[`exit-${split.level}@${k}`] = [0];
    for (const key of Object.keys(replaced)) note(`${key} at ${slowdown}×`, own.length);
    if (slowdown === 1) deviceMs = { ...deviceMs, ...replaced };
    else
      deviceMsBySlowdown = {
        ...deviceMsBySlowdown,
        [String(slowdown)]: { ...(deviceMsBySlowdown?.[String(slowdown)] ?? {}), ...replaced },
      };
  }
  const serverMs: Record<string, number[]> = {};
  const encode: number[] = [];
  const downlinkMs: number[] = [];
  const overheadMs: number[] = [];
  for (const record of own) {
    const sent = record.images.filter((image) => !image.earlyExit).length;
    if (record.mode === 'on-device' || sent === 0 || record.requestId === 0) continue;
    const p = record.phases;
    push(
      serverMs,
      `${split ? `tail-${split.level}` : `offload-${config}`}@${sent}`,
      p.serverQueueMs + p.serverComputeMs,
    );
    encode.push(p.encodeMs / sent);
    if (p.downlinkMs !== null) downlinkMs.push(p.downlinkMs);
    overheadMs.push(p.overheadMs);
  }
  for (const [key, values] of Object.entries(serverMs)) note(key, values.length);
  const encodeKind = split ? 'codes' : config;
  if (encode.length > 0) note(`encode ${encodeKind}`, encode.length);
  return {
    ...json,
    deviceMs,
    deviceMsBySlowdown,
    serverMs: { ...json.serverMs, ...serverMs },
    encodeMsPerImage:
      encode.length > 0 ? { ...json.encodeMsPerImage, [encodeKind]: encode } : json.encodeMsPerImage,
    downlinkMs: downlinkMs.length > 0 ? downlinkMs : json.downlinkMs,
    overheadMs: overheadMs.length > 0 ? overheadMs : json.overheadMs,
    derived,
  };
}
