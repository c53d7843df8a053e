/** A tiny inline price trail; its colour says whether the trail ends above where it began. */
export function Sparkline({ points, width = 96, height = 28, label }: { points: number[]; width?: number; height?: number; label: string }) {
  if (points.length < 2) {
    return <svg className="spark spark--empty" width={width} height={height} role="img" aria-label={`${label}: not enough prices yet`} />;
  }
  const min = Math.min(...points);
  const max = Math.max(...points);
  const span = max - min || 1;
  const step = width / (points.length - 1);
  const d = points.map((p, i) => `${i ? 'L' : 'M'}${(i * step).toFixed(1)},${(height - 2 - ((p - min) / span) * (height - 4)).toFixed(1)}`).join('');
  const dir = points[points.length - 1] >= points[0] ? 'up' : 'down';
  return (
    <svg className={`spark spark--${dir}`} width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={`${label}: ${points.length} recent prices, ${dir}`}>
      <path d={d} fill="none" strokeWidth="1.5" vectorEffect="non-scaling-stroke" />
    </svg>
  );
}
