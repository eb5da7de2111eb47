import { useShallow } from 'zustand/react/shallow';
import { deviceFiles } from '../app/bundle';
import { useAppStore } from '../app/store';
import { defaultBackend, softwareAdapterReason } from '../backend/capabilities';
import { useEngine } from './engineContext';
import { formatBytes } from './format';
import { SlowdownStatus } from './DeviceControls';

function BackendLine() {
  const capabilities = useAppStore((state) => state.capabilities);
  const backend = useAppStore((state) => state.backend);
  if (!capabilities) return <p data-testid="status.backend">Detecting WebGPU…</p>;
  const webgpu = capabilities.webgpu;
  return (
    <div className="backend">
      <p data-testid="status.backend" data-backend={backend?.kind ?? ''}>
        Running on <strong>{backend?.label ?? '…'}</strong>
      </p>
      {webgpu.available ? (
        <p data-testid="status.adapter" className="muted">
          WebGPU adapter: {webgpu.adapter.vendor} / {webgpu.adapter.architecture}
          {webgpu.adapter.description ? ` (${webgpu.adapter.description})` : ''}
          {webgpu.adapter.isFallbackAdapter ? ' — software fallback: compute runs on the CPU' : ''}
        </p>
      ) : null}
      {webgpu.available && softwareAdapterReason(webgpu.adapter) ? (
        <p data-testid="status.backend-reason" className="warning">
          {defaultBackend(capabilities).reason}, slower than WASM (measured here: split at 16 images per
          request 2-4× PNG offload). WebGPU stays one click away: Backend → WebGPU.
        </p>
      ) : null}
      {webgpu.available ? null : (
        <p data-testid="status.webgpu-missing" className="warning">
          No WebGPU, running WASM: {webgpu.reason}
        </p>
      )}
      <p className="muted" data-testid="status.wasm">
        WASM threads: {capabilities.wasmThreads}
        {capabilities.crossOriginIsolated
          ? ` (cross-origin isolated; half of ${capabilities.hardwareConcurrency} logical cores, at most 4)`
          : ' (not cross-origin isolated: one thread)'}
      </p>
    </div>
  );
}

function BackendSwitch() {
  const engine = useEngine();
  const { backend, capabilities, phase, running, busy } = useAppStore(
    useShallow((state) => ({
      backend: state.backend,
      capabilities: state.capabilities,
      phase: state.phase,
      running: state.running,
      busy: state.busy,
    })),
  );
  const webgpuAvailable = capabilities?.webgpu.available === true;
  return (
    <div className="segmented" role="group" aria-label="Backend">
      {(['webgpu', 'wasm'] as const).map((kind) => (
        <button
          key={kind}
          type="button"
          data-testid={`controls.backend.${kind}`}
          aria-pressed={backend?.kind === kind}
          disabled={phase === 'loading' || running || busy || (kind === 'webgpu' && !webgpuAvailable)}
          onClick={() => void engine.loadModels(kind)}
        >
          {kind === 'webgpu' ? 'WebGPU' : 'WASM'}
        </button>
      ))}
    </div>
  );
}

function Files() {
  const manifest = useAppStore((state) => state.manifest);
  const files = useAppStore((state) => state.files);
  if (!manifest) return null;
  const entries = deviceFiles(manifest);
  return (
    <ul className="files" data-testid="status.files">
      {entries.map((entry) => {
        const progress = Object.values(files).find((file) => file.url.endsWith(`/${entry.file}`));
        const fraction = progress ? progress.loadedBytes / (progress.totalBytes ?? entry.bytes) : 0;
        return (
          <li key={entry.file}>
            <span className="file-name">{entry.name}</span>
            <span className="file-size">{formatBytes(entry.bytes)}</span>
            <progress value={Math.min(1, fraction)} max={1} aria-label={`${entry.file} download`} />
            <span className="muted">
              {progress?.fromCache ? 'cached' : progress?.done ? 'downloaded' : ''}
            </span>
          </li>
        );
      })}
    </ul>
  );
}

export function StatusPanel() {
  const engine = useEngine();
  const { phase, phaseDetail, errors, connection } = useAppStore(
    useShallow((state) => ({
      phase: state.phase,
      phaseDetail: state.phaseDetail,
      errors: state.errors,
      connection: state.connection,
    })),
  );
  const backendKind = useAppStore((state) => state.requestedBackend);
  return (
    <section className="card status" aria-label="Status">
      <div className="row spread">
        <h2>Device</h2>
        <span className={`pill ${phase}`} data-testid="status.phase" data-phase={phase}>
          {phase === 'ready' ? 'ready' : phase === 'error' ? 'error' : `loading: ${phaseDetail}`}
        </span>
      </div>
      <BackendLine />
      <SlowdownStatus />
      <BackendSwitch />
      <Files />
      {errors.models && (
        <div className="error-box" data-testid="status.models-error">
          Model files could not be loaded: {errors.models}
          <button
            type="button"
            data-testid="status.models-retry"
            onClick={() => void engine.loadModels(backendKind ?? 'wasm')}
          >
            Retry
          </button>
        </div>
      )}
      {errors.dataset && (
        <div className="error-box" data-testid="status.dataset-error">
          Test images could not be loaded: {errors.dataset}
          <button type="button" onClick={() => void engine.retryDataset()}>
            Retry
          </button>
        </div>
      )}
      <p className="muted" data-testid="status.connection" data-connection={connection.status}>
        Tail server: {connection.status}
        {connection.reconnects > 0 ? ` (reconnected ${connection.reconnects}×)` : ''}
      </p>
    </section>
  );
}
