import { memo, useMemo } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { useAppStore } from '../../app/store';
import type { ValueAxis } from './axes';
import { ModeLines, byMode, type ReferenceLevel } from './ModeLines';
import { useChartSnapshot } from './useChartSnapshot';

const ACCURACY_AXIS: ValueAxis = {
  kind: 'fixed',
  axis: { domain: [50, 100], ticks: [50, 60, 70, 80, 90, 100] },
};

export const AccuracyChart = memo(function AccuracyChart() {
  const { attach, snapshot } = useChartSnapshot('charts.accuracy');
  const { manifest, levelId, bits } = useAppStore(
    useShallow((state) => ({
      manifest: state.manifest,
      levelId: state.settings.levelId,
      bits: state.settings.bits,
    })),
  );
  const references = useMemo(() => {
    if (!manifest) return [];
    const level = manifest.levels.find((entry) => entry.id === levelId);
    const entry = level?.bits.find((candidate) => candidate.bits === bits);
    const line = (y: number, label: string): ReferenceLevel => ({ y, label });
    const lines = [
      line(
        manifest.full.accuracy.accuracy * 100,
        `full model ${(manifest.full.accuracy.accuracy * 100).toFixed(2)}%`,
      ),
    ];
    if (entry && level)
      lines.push(
        line(entry.accuracy * 100, `${level.id}-b${entry.bits} ${(entry.accuracy * 100).toFixed(2)}%`),
      );
    return lines;
  }, [manifest, levelId, bits]);
  const rows = useMemo(
    () =>
      byMode(
        snapshot.points,
        (p) => (p.runningAccuracy === null ? null : p.runningAccuracy * 100),
        references,
      ),
    [snapshot.points, references],
  );
  return (
    <ModeLines
      attach={attach}
      version={snapshot.version}
      title="Running accuracy against the true labels"
      testId="charts.accuracy"
      rows={rows}
      unit="%"
      yAxis={ACCURACY_AXIS}
      reference={references}
    />
  );
});
