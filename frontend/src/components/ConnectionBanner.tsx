import { useEffect, useState } from 'react';
import { useConnection } from '../realtime';

/** Says when live updates stopped, and clears itself once the socket is back. */
export function ConnectionBanner() {
  const snap = useConnection();
  // A first connect gets a moment before it counts as a problem.
  const [grace, setGrace] = useState(true);
  useEffect(() => {
    const t = setTimeout(() => setGrace(false), 3000);
    return () => clearTimeout(t);
  }, []);
  const lost = snap.state === 'reconnecting' || snap.state === 'refused' || (snap.state === 'connecting' && !grace);
  if (!lost) return null;
  const title = snap.everConnected ? 'Connection to Photon lost' : 'Cannot reach Photon';
  const detail =
    snap.state === 'refused'
      ? `The server refused the live connection${snap.reason ? `: ${snap.reason}` : ''}. Renewing your login…`
      : `Reconnecting${snap.attempts ? ` (attempt ${snap.attempts})` : ''}… Prices and statuses are paused until then.`;
  return (
    <div className="banner banner--warn" role="alert" data-testid="connection-banner">
      <strong>{title}.</strong> {detail}
    </div>
  );
}
