import { type ReactNode, useEffect } from 'react';
import { Link } from './components/link.tsx';
import { LiveIndicator } from './components/live-indicator.tsx';
import { FindingPage } from './pages/finding.tsx';
import { FindingsPage } from './pages/findings.tsx';
import { HostPage } from './pages/host.tsx';
import { HostsPage } from './pages/hosts.tsx';
import { IncidentPage, IncidentsPage } from './pages/incidents.tsx';
import { LoginPage } from './pages/login.tsx';
import { NotFoundPage } from './pages/not-found.tsx';
import { OverviewPage } from './pages/overview.tsx';
import { RulesPage } from './pages/rules.tsx';
import { SettingsPage } from './pages/settings.tsx';
import { match, navigate, useLocation } from './router.ts';
import { clearSession, type Session } from './session.ts';
import { startStream, stopStream } from './stream.ts';
import { useSession } from './use-session.ts';

/** Path → page. Every view is a link; filters live in the query string. */
function route(path: string, session: Session): ReactNode {
  if (path === '/' || path === '/overview') return <OverviewPage />;
  if (path === '/hosts') return <HostsPage />;
  if (path === '/findings') return <FindingsPage session={session} />;
  if (path === '/incidents') return <IncidentsPage session={session} />;
  if (path === '/rules') return <RulesPage />;
  if (path === '/settings') return <SettingsPage session={session} />;
  const host = match('/hosts/:id', path);
  if (host) return <HostPage key={host.id} id={host.id!} session={session} />;
  const incident = match('/incidents/:id', path);
  if (incident) return <IncidentPage key={incident.id} id={incident.id!} session={session} />;
  const finding = match('/findings/:fp', path);
  if (finding) return <FindingPage key={finding.fp} fingerprint={finding.fp!} session={session} />;
  return <NotFoundPage />;
}

const NAV: { to: string; label: string; admin?: boolean; active: (p: string) => boolean }[] = [
  { to: '/', label: 'Overview', active: (p) => p === '/' || p === '/overview' },
  { to: '/hosts', label: 'Hosts', active: (p) => p.startsWith('/hosts') },
  { to: '/findings', label: 'Findings', active: (p) => p.startsWith('/findings') },
  { to: '/incidents', label: 'Incidents', active: (p) => p.startsWith('/incidents') },
  { to: '/rules', label: 'Rules', active: (p) => p.startsWith('/rules') },
  { to: '/settings', label: 'Settings', admin: true, active: (p) => p.startsWith('/settings') },
];

export function App() {
  const session = useSession();
  const loc = useLocation();
  const token = session?.token;

  useEffect(() => {
    if (token) startStream(token);
    else stopStream();
    return () => stopStream();
  }, [token]);

  // Logged in at /login (a bookmark, the back button): go where the link said, else the overview.
  useEffect(() => {
    if (session && loc.path === '/login') {
      const next = loc.query.get('next');
      navigate(next?.startsWith('/') && !next.startsWith('//') ? next : '/', { replace: true });
    }
  }, [session, loc]);

  if (!session) return <LoginPage />;

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="top">
        <Link to="/" className="brand">
          deminer
        </Link>
        <nav aria-label="Main">
          <ul>
            {NAV.filter((n) => !n.admin || session.role === 'admin').map((n) => (
              <li key={n.to}>
                <Link to={n.to} aria-current={n.active(loc.path) ? 'page' : undefined}>
                  {n.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div className="top-right">
          <LiveIndicator />
          <span className="who" title={session.name ?? undefined}>
            {session.role}
          </span>
          <button type="button" className="link-button" onClick={() => clearSession('logout')}>
            Log out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {route(loc.path, session)}
      </main>
    </>
  );
}
