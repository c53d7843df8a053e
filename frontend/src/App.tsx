import { useEffect, useState, useSyncExternalStore } from 'react';
import { tokens } from './api/tokens';
import { ConnectionBanner } from './components/ConnectionBanner';
import { Link } from './components/Link';
import { ReplayBadge } from './components/ReplayBadge';
import { navigate, useLocation } from './router';
import { AgentsScreen } from './screens/agents/AgentsScreen';
import { AuthScreen } from './screens/auth/AuthScreen';
import { ChartScreen } from './screens/chart/ChartScreen';
import { DecisionsScreen } from './screens/decisions/DecisionsScreen';
import { PortfolioScreen } from './screens/portfolio/PortfolioScreen';
import { WatchlistScreen } from './screens/watchlist/WatchlistScreen';
import { endSession, logout, startSession } from './state/session';

const NAV = [
  { href: '/', label: 'Watch list', match: (p: string) => p === '/' },
  { href: '/chart', label: 'Chart', match: (p: string) => p.startsWith('/chart') },
  { href: '/decisions', label: 'Decisions', match: (p: string) => p.startsWith('/decisions') },
  { href: '/agents', label: 'Agents', match: (p: string) => p.startsWith('/agents') },
  { href: '/portfolio', label: 'Portfolio', match: (p: string) => p.startsWith('/portfolio') },
];

const subscribeTokens = (fn: () => void) => tokens.subscribe(fn);
const isLoggedIn = () => tokens.loggedIn;

export function App() {
  const loggedIn = useSyncExternalStore(subscribeTokens, isLoggedIn);
  const loc = useLocation();

  // A session that ends by itself (refresh refused, 401) brings back the login screen, and
  // remembers where the user was.
  useEffect(
    () =>
      tokens.subscribe((_access, ended) => {
        if (ended === 'expired') {
          const here = window.location.pathname + window.location.search;
          navigate(`/login?expired=1&next=${encodeURIComponent(here)}`, { replace: true });
        } else if (ended === 'logout') {
          navigate('/login', { replace: true });
        }
      }),
    [],
  );

  useEffect(() => {
    if (loggedIn) startSession();
    else endSession();
  }, [loggedIn]);

  const authPath = loc.path === '/login' || loc.path === '/register';
  useEffect(() => {
    if (!loggedIn && !authPath) navigate(`/login?next=${encodeURIComponent(loc.href)}`, { replace: true });
  }, [loggedIn, authPath, loc.href]);

  if (!loggedIn) return <AuthScreen key={loc.path} mode={loc.path === '/register' ? 'register' : 'login'} />;
  if (authPath) {
    // Logged in already (another tab, or just now): go where the user meant to.
    return <Redirect to={loc.query.get('next') ?? '/'} />;
  }
  return <Shell path={loc.path} />;
}

function Redirect({ to }: { to: string }) {
  useEffect(() => navigate(to.startsWith('/') && !to.startsWith('//') && !to.startsWith('/login') ? to : '/', { replace: true }), [to]);
  return null;
}

function Shell({ path }: { path: string }) {
  const [busy, setBusy] = useState(false);
  return (
    <div className="app">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link href="/" className="brand" aria-label="Photon home">
          <span className="brand__dot" aria-hidden="true" /> Photon
        </Link>
        <nav className="nav" aria-label="Main">
          {NAV.map((n) => (
            <Link key={n.href} href={n.href} className="nav__link" aria-current={n.match(path) ? 'page' : undefined}>
              {n.label}
            </Link>
          ))}
        </nav>
        <ReplayBadge />
        <button
          type="button"
          className="btn btn--ghost btn--small topbar__logout"
          disabled={busy}
          onClick={async () => {
            setBusy(true);
            await logout();
            setBusy(false);
          }}
        >
          {busy ? 'Logging out…' : 'Log out'}
        </button>
      </header>
      <ConnectionBanner />
      <Screen path={path} />
    </div>
  );
}

function Screen({ path }: { path: string }) {
  if (path === '/') return <WatchlistScreen />;
  if (path === '/chart') return <ChartScreen />;
  if (path.startsWith('/chart/')) return <ChartScreen ticker={decodeURIComponent(path.slice('/chart/'.length))} />;
  if (path === '/decisions') return <DecisionsScreen />;
  if (path === '/agents') return <AgentsScreen />;
  if (path === '/portfolio') return <PortfolioScreen />;
  return (
    <main id="main" className="screen">
      <h1>Not found</h1>
      <p>
        There is no page at {path}. <Link href="/">Go to the watch list</Link>.
      </p>
    </main>
  );
}
