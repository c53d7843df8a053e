import type { ReliabilityBin, Statistics } from '../../api/types';

export interface ReliabilitySeries {
  name: string;
  bins: ReliabilityBin[];
}

function isBin(x: unknown): x is ReliabilityBin & { group?: string } {
  return !!x && typeof x === 'object' && 'bin_lo' in x && 'bin_hi' in x && 'n' in x;
}

/**
 * `reliability` as drawable series: the pooled bins first, then any per-group ones. Accepts a
 * plain list of bins (entries with a `group` field form groups), or an object of lists.
 * Null when no bin has a scored decision in it.
 */
export function reliabilitySeries(stats: Statistics | null | undefined): ReliabilitySeries[] | null {
  const rel = stats?.reliability as unknown;
  if (!rel) return null;
  const out: ReliabilitySeries[] = [];
  if (Array.isArray(rel)) {
    const pooled = rel.filter((b) => isBin(b) && !(b as { group?: string }).group);
    out.push({ name: 'all decisions', bins: pooled as ReliabilityBin[] });
    const groups = new Map<string, ReliabilityBin[]>();
    for (const b of rel) {
      const g = isBin(b) ? (b as { group?: string }).group : undefined;
      if (g) groups.set(g, [...(groups.get(g) ?? []), b as ReliabilityBin]);
    }
    for (const [name, bins] of groups) out.push({ name, bins });
  } else if (typeof rel === 'object') {
    const obj = rel as Record<string, unknown>;
    const pooledKey = ['pooled', 'all', 'overall'].find((k) => Array.isArray(obj[k]));
    if (pooledKey) out.push({ name: 'all decisions', bins: (obj[pooledKey] as unknown[]).filter(isBin) });
    for (const [key, value] of Object.entries(obj)) {
      if (key === pooledKey) continue;
      if (Array.isArray(value)) out.push({ name: key, bins: value.filter(isBin) });
      else if (value && typeof value === 'object') {
        for (const [sub, list] of Object.entries(value as Record<string, unknown>)) {
          if (Array.isArray(list)) out.push({ name: `${key} ${sub}`, bins: list.filter(isBin) });
        }
      }
    }
  }
  const usable = out.map((s) => ({ ...s, bins: s.bins.filter((b) => b.n > 0 && b.hit_rate != null) })).filter((s) => s.bins.length > 0);
  return usable.length ? usable : null;
}
