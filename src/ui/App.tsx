import { useAppStore } from '../app/store';
import { Charts } from './charts';
import { Controls } from './Controls';
import { DeviceControls } from './DeviceControls';
import { LiveBar } from './LiveBar';
import { CurrentImage } from './CurrentImage';
import { Predictions } from './Predictions';
import { StatusPanel } from './StatusPanel';
import { Summary } from './Summary';
import { ThrottleHint } from './ThrottleHint';

function ServerBanner() {
  const connection = useAppStore((state) => state.connection);
  const serverError = useAppStore((state) => state.errors.server);
  if (connection.status === 'connected' || !serverError) return null;
  return (
    <div className="banner" role="alert" data-testid="banner.server">
      Tail server unreachable — reconnecting automatically. Requests in flight are counted as failed; the
      stream resumes by itself. <span className="muted">({serverError})</span>
    </div>
  );
}

export function App() {
  return (
    <>
      <header className="top">
        <h1>SplitScope</h1>
        <p className="muted">
          Head on your device, a few bits over the wire, tail on the server — measured live against on-device
          and offload.
        </p>
      </header>
      <ServerBanner />
      <LiveBar />
      <main className="layout">
        <div className="side">
          <StatusPanel />
          <Controls />
          <DeviceControls />
          <ThrottleHint />
        </div>
        <div className="main">
          <Summary />
          <Predictions />
          <CurrentImage />
          <Charts />
        </div>
      </main>
    </>
  );
}
