export function StatePill({ state, halted }: { state: string | undefined; halted?: boolean }) {
  const label = halted ? 'halted' : state ?? 'unknown';
  return (
    <span className={`pill pill--${halted ? 'halted' : state ?? 'unknown'}`} data-testid="state-pill">
      <span className="pill__dot" aria-hidden="true" />
      {label}
    </span>
  );
}
