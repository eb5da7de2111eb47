/**
 * The cost model's price of every candidate for the next request, next to what that candidate's
 * recent requests measured, and the accuracy the manifest measured for it (split with exit and WebP
 * included): the figures a policy would choose by, shown so they can be checked.
 * Polled from the engine once a second (a prediction is a Monte Carlo sum over ~150 candidates;
 * the store never carries it).
 */
import { useEffect, useMemo, useState } from 'react';
import type { PredictionsView } from '../app/engine';
import { useAppStore } from '../app/store';
import { splitCandidateId } from '../core/costModel';
import type { ModelManifest } from '../core/manifest';
import { expectedAccuracies } from '../core/policy';
import { offloadConfigName } from '../app/settings';
import { useEngine } from './engineContext';
import { formatBps, formatMs, formatPercent } from './format';

const REFRESH_MS = 1000;

/** Expected accuracy per candidate id, as auto weighs it; empty without a (sound) manifest. */
export function manifestAccuracies(manifest: ModelManifest | null): ReadonlyMap<string, number> {
  if (!manifest) return new Map();
  try {
    return expectedAccuracies(manifest);
  } catch {
    return new Map();
  }
}

export function Predictions() {
  const engine = useEngine();
  const phase = useAppStore((state) => state.phase);
  const settings = useAppStore((state) => state.settings);
  const manifest = useAppStore((state) => state.manifest);
  const accuracies = useMemo(() => manifestAccuracies(manifest), [manifest]);
  const [view, setView] = useState<PredictionsView | null>(null);
  const [showAll, setShowAll] = useState(false);

  // In auto, the candidate it runs now; in the fixed modes, the ones the settings name.
  const autoChoice = useAppStore((state) =>
    state.settings.mode === 'auto' ? (state.live.lastDecision?.candidate ?? null) : null,
  );
  const current = new Set(
    autoChoice
      ? [autoChoice]
      : [
          'full',
          offloadConfigName(settings.format, settings.webpQuality),
          splitCandidateId(settings.levelId, settings.bits, settings.exitThreshold),
        ],
  );
  // By default on-device, offload, the chosen level and bit-width with each exit, and whatever ran:
  // pricing all ~150 candidates every second is work for the page's main thread.
  const chosenSplit = `${settings.levelId}-b${settings.bits}`;
  const includeKey = showAll ? 'all' : chosenSplit;

  useEffect(() => {
    if (phase !== 'ready') return;
    const include = (candidate: string) =>
      includeKey === 'all' ||
      !candidate.includes('-b') ||
      candidate === includeKey ||
      candidate.startsWith(`${includeKey}-x`);
    const update = () => setView(engine.predictions(include));
    update();
    const timer = setInterval(update, REFRESH_MS);
    return () => clearInterval(timer);
  }, [engine, phase, includeKey]);

  const rows = view?.rows ?? [];
  const uplink = view?.uplink;

  return (
    <section className="card predictions" aria-label="Predicted latency" data-testid="predictions">
      <h2>Predicted latency per candidate</h2>
      {view ? (
        <p className="muted" data-testid="predictions.context">
          Next request of {view.images} image{view.images === 1 ? '' : 's'}
          {view.slowdown === 1 ? ', device at real speed' : `, device ${view.slowdown}× slower (emulated)`},
          uplink {uplink?.bps ? formatBps(uplink.bps) : 'unknown'}
          {uplink?.relativeUncertainty !== undefined
            ? ` ± ${formatPercent(uplink.relativeUncertainty, 0)}`
            : ''}
          . Measured: this candidate's recent requests of the same size at the same slowdown.
        </p>
      ) : (
        <p className="muted">Predictions appear once the models are loaded.</p>
      )}
      <label className="inline">
        <input
          type="checkbox"
          data-testid="predictions.show-all"
          checked={showAll}
          onChange={(event) => setShowAll(event.target.checked)}
        />{' '}
        every level × bit-width × exit
      </label>
      <PredictionsTable rows={rows} current={current} accuracies={accuracies} />
    </section>
  );
}

/** One row per candidate: its prediction, its recent measurements, and its expected accuracy. */
export function PredictionsTable({
  rows,
  current,
  accuracies,
}: {
  rows: PredictionsView['rows'];
  current: ReadonlySet<string>;
  accuracies: ReadonlyMap<string, number>;
}) {
  return (
    <div className="table-scroll">
      <table className="results" data-testid="predictions.table">
        <thead>
          <tr>
            <th>candidate</th>
            <th>predicted median</th>
            <th>predicted p90</th>
            <th>measured median</th>
            <th>measured p90</th>
            <th>requests</th>
            <th title="Top-1 accuracy the manifest measured for this candidate on the 10,000 test images (ONNX, as the app runs it)">
              expected accuracy
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map(({ candidate, prediction, measured }) => (
            <tr
              key={candidate}
              data-testid={`predictions.row.${candidate}`}
              data-predicted-median={prediction.ok ? prediction.medianMs : ''}
              data-measured-median={measured?.medianMs ?? ''}
              className={current.has(candidate) ? 'current' : undefined}
            >
              <th scope="row">
                {candidate}
                {prediction.ok && prediction.exitShare > 0
                  ? ` (${formatPercent(prediction.exitShare, 0)} exit)`
                  : ''}
              </th>
              {prediction.ok ? (
                <>
                  <td data-label="predicted median" title={prediction.assumptions.join('; ')}>
                    {formatMs(prediction.medianMs)}
                  </td>
                  <td data-label="predicted p90">{formatMs(prediction.p90Ms)}</td>
                </>
              ) : (
                <td data-label="predicted" colSpan={2} className="muted">
                  needs {prediction.missing.join(', ')}
                </td>
              )}
              <td data-label="measured median">{formatMs(measured?.medianMs)}</td>
              <td data-label="measured p90">{formatMs(measured?.p90Ms)}</td>
              <td data-label="requests">{measured?.requests ?? 0}</td>
              <td data-label="expected accuracy" data-testid={`predictions.accuracy.${candidate}`}>
                {formatPercent(accuracies.get(candidate), 2)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
