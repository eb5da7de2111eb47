import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { Engine } from './app/engine';
import { EngineProvider } from './ui/engineContext';
import { installTestHooks } from './app/testHooks';
import { createTailLink } from './app/tailConnection';
import { App } from './ui/App';
import { chartScheduler } from './ui/charts/useChartSnapshot';
import type { BackendKind } from './backend/ort';
import './ui/styles.css';

const params = new URLSearchParams(location.search);
const preferred = params.get('backend');
const engine = new Engine(createTailLink(location.origin));
installTestHooks(engine, chartScheduler);
void engine.boot(preferred === 'wasm' || preferred === 'webgpu' ? (preferred as BackendKind) : undefined);

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <EngineProvider engine={engine}>
      <App />
    </EngineProvider>
  </StrictMode>,
);
