import { useEffect, useRef } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { recordsToCsv, recordsToJson } from '../app/exportRecords';
import { LIMITS, clampSetting, type RunMode } from '../app/settings';
import { useAppStore } from '../app/store';
import { payloadBytesPerImage } from '../core/manifest';
import type { ImageFormat } from '../core/record';
import { useEngine } from './engineContext';
import { formatPercent } from './format';
import { exportEnvironment, writeSessionReport } from './sessionReportCapture';

const RUN_MODES: { id: RunMode; label: string }[] = [
  { id: 'on-device', label: 'On-device' },
  { id: 'offload', label: 'Offload' },
  { id: 'split', label: 'Split' },
  { id: 'compare', label: 'Compare' },
  { id: 'auto', label: 'Auto' },
];

function NumberField(props: {
  testId: string;
  label: string;
  value: number;
  min: number;
  max: number;
  onChange: (value: number) => void;
  disabled?: boolean;
}) {
  return (
    <label className="field">
      <span>{props.label}</span>
      <input
        type="number"
        inputMode="numeric"
        data-testid={props.testId}
        min={props.min}
        max={props.max}
        value={props.value}
        disabled={props.disabled}
        onChange={(event) => {
          const value = Number(event.target.value);
          if (Number.isFinite(value)) props.onChange(value);
        }}
      />
    </label>
  );
}

function download(name: string, text: string, type: string) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const anchor = document.createElement('a');
  anchor.href = url;
  anchor.download = name;
  anchor.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/**
 * When a run or a step ends, the Start index field moves to where the next one continues, so the
 * field always reads what Start will do (the engine starts from the field when it changes).
 */
function useStartIndexFollowsRuns(active: boolean) {
  const engine = useEngine();
  const wasActive = useRef(active);
  useEffect(() => {
    if (wasActive.current && !active) {
      const next = engine.nextStartIndex;
      if (next !== null) useAppStore.getState().updateSettings({ startIndex: next });
    }
    wasActive.current = active;
  }, [active, engine]);
}

export function Controls() {
  const engine = useEngine();
  const { settings, running, busy, phase, manifest, updateSettings } = useAppStore(
    useShallow((state) => ({
      settings: state.settings,
      running: state.running,
      busy: state.busy,
      phase: state.phase,
      manifest: state.manifest,
      updateSettings: state.updateSettings,
    })),
  );
  const ready = phase === 'ready';
  useStartIndexFollowsRuns(running || busy);
  const level = manifest?.levels.find((entry) => entry.id === settings.levelId) ?? manifest?.levels[0];
  const bitsEntry = level?.bits.find((entry) => entry.bits === settings.bits);
  const usesSplit = settings.mode === 'split' || settings.mode === 'compare';
  const usesOffload = settings.mode === 'offload' || settings.mode === 'compare';

  const exportSession = (kind: 'csv' | 'json') => {
    const state = useAppStore.getState();
    const environment = exportEnvironment(state);
    const records = engine.feed.records.toArray();
    const stamp = environment.exportedAt.replaceAll(':', '-');
    if (kind === 'csv')
      download(`splitscope-${stamp}.csv`, recordsToCsv(records, state.settings, environment), 'text/csv');
    else
      download(
        `splitscope-${stamp}.json`,
        recordsToJson(records, state.settings, environment),
        'application/json',
      );
  };

  const exportReport = () => {
    const { name, html } = writeSessionReport(engine);
    download(name, html, 'text/html');
  };

  return (
    <section className="card controls" aria-label="Controls">
      <h2>Run</h2>
      <div className="segmented wide" role="group" aria-label="Mode">
        {RUN_MODES.map((mode) => (
          <button
            key={mode.id}
            type="button"
            data-testid={`controls.mode.${mode.id}`}
            aria-pressed={settings.mode === mode.id}
            onClick={() => updateSettings({ mode: mode.id })}
          >
            {mode.label}
          </button>
        ))}
      </div>

      <div className="buttons">
        <button
          type="button"
          className="primary"
          data-testid="controls.start"
          disabled={!ready || running || busy}
          onClick={() => engine.start()}
        >
          Start
        </button>
        <button type="button" data-testid="controls.stop" disabled={!running} onClick={() => engine.stop()}>
          Stop
        </button>
        <button
          type="button"
          data-testid="controls.step"
          disabled={!ready || running || busy}
          onClick={() => void engine.step()}
        >
          Step
        </button>
        <button
          type="button"
          data-testid="controls.reset"
          disabled={running || busy}
          onClick={() => engine.resetSession()}
        >
          Clear
        </button>
      </div>

      <div className="fields">
        {settings.mode === 'auto' && (
          <NumberField
            testId="controls.slo"
            label="Latency target per request (ms)"
            value={settings.sloMs}
            min={LIMITS.sloMs[0]}
            max={LIMITS.sloMs[1]}
            onChange={(value) => updateSettings({ sloMs: clampSetting('sloMs', value) })}
          />
        )}
        {usesSplit && manifest && (
          <>
            <label className="field">
              <span>Bottleneck</span>
              <select
                data-testid="controls.level"
                value={level?.id}
                onChange={(event) => updateSettings({ levelId: event.target.value })}
              >
                {manifest.levels.map((entry) => (
                  <option key={entry.id} value={entry.id}>
                    {entry.id}: {entry.bottleneckShape.join('×')}
                  </option>
                ))}
              </select>
            </label>
            <label className="field">
              <span>Bits: {settings.bits}</span>
              <input
                type="range"
                data-testid="controls.bits"
                min={1}
                max={8}
                value={settings.bits}
                onChange={(event) =>
                  updateSettings({ bits: clampSetting('bits', Number(event.target.value)) })
                }
              />
            </label>
          </>
        )}
        {usesOffload && (
          <>
            <label className="field">
              <span>Image format</span>
              <select
                data-testid="controls.format"
                value={settings.format}
                onChange={(event) => updateSettings({ format: event.target.value as ImageFormat })}
              >
                <option value="png">PNG (grey)</option>
                <option value="webp">WebP</option>
                <option value="raw">raw 784 B</option>
              </select>
            </label>
            {settings.format === 'webp' && (
              <label className="field">
                <span>WebP quality: {settings.webpQuality}</span>
                <input
                  type="range"
                  data-testid="controls.webp-quality"
                  min={1}
                  max={100}
                  value={settings.webpQuality}
                  onChange={(event) =>
                    updateSettings({ webpQuality: clampSetting('webpQuality', Number(event.target.value)) })
                  }
                />
              </label>
            )}
          </>
        )}
        <NumberField
          testId="controls.images-per-request"
          label="Images per request"
          value={settings.imagesPerRequest}
          min={1}
          max={64}
          onChange={(value) => updateSettings({ imagesPerRequest: clampSetting('imagesPerRequest', value) })}
        />
        <label className="field">
          <span>Rate</span>
          <select
            data-testid="controls.rate-kind"
            value={settings.rateKind}
            onChange={(event) => updateSettings({ rateKind: event.target.value as 'fixed' | 'max' })}
          >
            <option value="max">as fast as acks allow</option>
            <option value="fixed">fixed images/s</option>
          </select>
        </label>
        {settings.rateKind === 'fixed' ? (
          <NumberField
            testId="controls.images-per-second"
            label="Images per second"
            value={settings.imagesPerSecond}
            min={1}
            max={500}
            onChange={(value) => updateSettings({ imagesPerSecond: clampSetting('imagesPerSecond', value) })}
          />
        ) : null}
        <NumberField
          testId="controls.max-in-flight"
          label="Max requests in flight"
          value={settings.maxInFlight}
          min={1}
          max={16}
          onChange={(value) => updateSettings({ maxInFlight: clampSetting('maxInFlight', value) })}
        />
        <NumberField
          testId="controls.seed"
          label="Seed (0 = file order)"
          value={settings.seed}
          min={0}
          max={2 ** 31}
          disabled={running}
          onChange={(value) => updateSettings({ seed: Math.max(0, Math.floor(value)) })}
        />
        <NumberField
          testId="controls.start-index"
          label="Start index"
          value={settings.startIndex}
          min={0}
          max={9999}
          disabled={running}
          onChange={(value) => updateSettings({ startIndex: Math.max(0, Math.floor(value)) })}
        />
        <NumberField
          testId="controls.stop-after"
          label="Stop after images (0 = never)"
          value={settings.stopAfterImages}
          min={0}
          max={1_000_000}
          onChange={(value) => updateSettings({ stopAfterImages: Math.max(0, Math.floor(value)) })}
        />
      </div>

      {usesSplit && level && (
        <p className="muted" data-testid="controls.config-summary">
          {level.id} at {settings.bits} bit: {payloadBytesPerImage(level.elements, settings.bits)} B per
          image; manifest accuracy {formatPercent(bitsEntry?.accuracy, 2)} (full model{' '}
          {formatPercent(manifest?.full.accuracy.accuracy, 2)}).
        </p>
      )}

      <div className="buttons">
        <button type="button" data-testid="controls.export-csv" onClick={() => exportSession('csv')}>
          Export CSV
        </button>
        <button type="button" data-testid="controls.export-json" onClick={() => exportSession('json')}>
          Export JSON
        </button>
        <button type="button" data-testid="controls.export-report" onClick={exportReport}>
          Session report
        </button>
      </div>
    </section>
  );
}
