/** The decision timeline's categorical axis: the candidates auto chose, in a reading order. */
import type { DecisionPoint } from '../../app/liveSnapshot';

/** Where a candidate id sits on the axis: on-device, then offload, then split by level and bits. */
function rankOf(id: string): [number, string] {
  if (id === 'full') return [0, ''];
  if (id === 'png') return [1, ''];
  if (id.startsWith('webp')) return [2, id];
  return [3, id];
}

export function candidateOrder(decisions: readonly DecisionPoint[]): string[] {
  const ids = [...new Set(decisions.map((point) => point.candidate))];
  return ids.sort((a, b) => {
    const [rankA, restA] = rankOf(a);
    const [rankB, restB] = rankOf(b);
    return rankA - rankB || restA.localeCompare(restB, 'en', { numeric: true });
  });
}
