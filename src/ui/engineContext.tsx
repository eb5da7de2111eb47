import { createContext, useContext, type ReactNode } from 'react';
import type { Engine } from '../app/engine';

const EngineContext = createContext<Engine | null>(null);

export function EngineProvider({ engine, children }: { engine: Engine; children: ReactNode }) {
  return <EngineContext.Provider value={engine}>{children}</EngineContext.Provider>;
}

/** Components call the engine's commands (start, stop, switch backend); they never see ORT or the socket. */
export function useEngine(): Engine {
  const engine = useContext(EngineContext);
  if (!engine) throw new Error('useEngine outside EngineProvider');
  return engine;
}
