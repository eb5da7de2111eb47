/**
 * The device's own axes: an emulated slowdown (the device's model work really runs k times, so a
 * fast laptop can stand in for a slow phone) and split mode's early exit.
 */
import { useShallow } from 'zustand/react/shallow';
import { SLOWDOWN_FACTORS } from '../app/settings';
import { useAppStore } from '../app/store';
import { formatPercent } from './format';

export function DeviceControls() {
  const { slowdown, exitThreshold, levelId, mode, manifest, updateSettings } = useAppStore(
    useShallow((state) => ({
      slowdown: state.settings.slowdown,
      exitThreshold: state.settings.exitThreshold,
      levelId: state.settings.levelId,
      mode: state.settings.mode,
      manifest: state.manifest,
      updateSettings: state.updateSettings,
    })),
  );
  const exit = manifest?.earlyExits.find((entry) => entry.level === levelId);
  const usesSplit = mode === 'split' || mode === 'compare';
  return (
    <section className="card device-controls" aria-label="Device" data-testid="device">
      <h2>Device</h2>
      <div className="fields">
        <label className="field">
          <span>Device speed (emulated)</span>
          <select
            data-testid="controls.slowdown"
            value={slowdown}
            onChange={(event) => updateSettings({ slowdown: Number(event.target.value) })}
          >
            {SLOWDOWN_FACTORS.map((factor) => (
              <option key={factor} value={factor}>
                {factor === 1 ? '1× (real speed)' : `${factor}× slower (emulated)`}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>Early exit{usesSplit ? '' : ' (split only)'}</span>
          <select
            data-testid="controls.exit-threshold"
            value={exitThreshold === null ? 'off' : String(exitThreshold)}
            disabled={!exit}
            onChange={(event) =>
              updateSettings({
                exitThreshold: event.target.value === 'off' ? null : Number(event.target.value),
              })
            }
          >
            <option value="off">off</option>
            {exit?.thresholds.map((row) => (
              <option key={row.threshold} value={row.threshold}>
                confidence ≥ {row.threshold}: {formatPercent(row.coverage)} exit at{' '}
                {formatPercent(row.accuracy)}
              </option>
            ))}
          </select>
        </label>
      </div>
      <SlowdownNote slowdown={slowdown} />
    </section>
  );
}

function SlowdownNote({ slowdown }: { slowdown: number }) {
  if (slowdown === 1)
    return (
      <p className="muted" data-testid="device.slowdown-note" data-slowdown={1}>
        The device runs at its real speed.
      </p>
    );
  return (
    <p className="warning" data-testid="device.slowdown-note" data-slowdown={slowdown}>
      Emulated {slowdown}× slower device: every model the device runs (head, exit, full model) runs {slowdown}{' '}
      times in a row, and device times are those measured.
    </p>
  );
}

/** One line for the status panel while the device is emulated slower. */
export function SlowdownStatus() {
  const slowdown = useAppStore((state) => state.settings.slowdown);
  if (slowdown === 1) return null;
  return (
    <p className="warning" data-testid="status.slowdown" data-slowdown={slowdown}>
      Device slowdown: {slowdown}× (emulated)
    </p>
  );
}
