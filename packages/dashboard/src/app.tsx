import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { ApiClient, ApiError } from './api/api-client.js';
import { call } from './api/dashboard-routes.js';
import type { Session } from './api/types.js';
import { AppContext, type AppServices, useApp } from './app-context.js';
import { ErrorBoundary } from './components/error-boundary.js';
import { errorText } from './format.js';
import { LiveEventsHub } from './live/live-events.js';
import { navigate, useHashRoute } from './router.js';
import { applyTheme, savedTheme, type Theme } from './theme.js';
import { ApprovalsView } from './views/approvals-view.js';
import { AuditView } from './views/audit-view.js';
import { LoginView } from './views/login-view.js';
import { PoliciesView } from './views/policies-view.js';
import { GatewayView, PoolsView, TemplatesView, VolumesView } from './views/resource-views.js';
import { SandboxView } from './views/sandbox-view.js';
import { SandboxesView } from './views/sandboxes-view.js';
import { TokensView } from './views/tokens-view.js';

interface NavItem {
  view: string;
  label: string;
  adminOnly?: boolean;
}

const nav: NavItem[] = [
  { view: 'sandboxes', label: 'Sandboxes' },
  { view: 'approvals', label: 'Approvals' },
  { view: 'audit', label: 'Audit' },
  { view: 'policies', label: 'Policies' },
  { view: 'templates', label: 'Templates' },
  { view: 'pools', label: 'Pools' },
  { view: 'volumes', label: 'Volumes' },
  { view: 'gateway', label: 'Gateway' },
  { view: 'tokens', label: 'Tenants & tokens', adminOnly: true },
];

type SessionState = { kind: 'loading' } | { kind: 'signed-out' } | { kind: 'signed-in'; session: Session };

export function App() {
  const route = useHashRoute();
  const [state, setState] = useState<SessionState>({ kind: 'loading' });
  const [live, setLive] = useState(false);
  const [message, setMessage] = useState<{ text: string; kind: 'ok' | 'error' } | null>(null);
  const [theme, setTheme] = useState<Theme>(savedTheme);
  const api = useMemo(() => new ApiClient(() => setState({ kind: 'signed-out' })), []);
  const hub = useMemo(() => new LiveEventsHub((topics) => api.url(call('GET /v1/events'), { topics }), setLive), [api]);

  useEffect(() => applyTheme(theme), [theme]);

  const signedIn = useCallback(
    (session: Session) => {
      api.setSession(session);
      setState({ kind: 'signed-in', session });
    },
    [api],
  );

  useEffect(() => {
    const abort = new AbortController();
    api
      .json<{ session: Session }>(call('GET /v1/sessions/current'), { signal: abort.signal })
      .then((body) => signedIn(body.session))
      .catch((error: unknown) => {
        if (!abort.signal.aborted) setState({ kind: 'signed-out' });
        if (!(error instanceof ApiError)) console.warn(error);
      });
    return () => abort.abort();
  }, [api, signedIn]);

  // Live updates only while signed in: the stream is authenticated by the session cookie.
  useEffect(() => {
    if (state.kind !== 'signed-in') return;
    hub.start();
    return () => hub.stop();
  }, [hub, state.kind]);

  const notify = useCallback((text: string, kind: 'ok' | 'error' = 'ok') => setMessage({ text, kind }), []);
  const services = useMemo<AppServices | null>(
    () => (state.kind === 'signed-in' ? { api, live: hub, session: state.session, notify } : null),
    [api, hub, state, notify],
  );

  if (state.kind === 'loading') return <p className="loading">Loading…</p>;
  if (state.kind === 'signed-out' || !services) {
    return <LoginView api={api} code={route.view === 'login' ? route.query.get('code') : null} onSignedIn={signedIn} />;
  }
  if (route.view === 'login') navigate('#/sandboxes');

  const signOut = async () => {
    try {
      await api.response(call('DELETE /v1/sessions/current'));
    } catch (error) {
      notify(errorText(error), 'error');
    }
    api.setSession(null);
    setState({ kind: 'signed-out' });
  };

  const { principal } = services.session;
  return (
    <AppContext.Provider value={services}>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="top">
        <span className="brand">Paddock</span>
        <nav aria-label="Main">
          <ul>
            {nav
              .filter((item) => !item.adminOnly || principal.role === 'admin')
              .map((item) => (
                <li key={item.view}>
                  <a href={`#/${item.view}`} aria-current={route.view === item.view ? 'page' : undefined}>
                    {item.label}
                  </a>
                </li>
              ))}
          </ul>
        </nav>
        <div className="who">
          <span className={live ? 'live-dot on' : 'live-dot'} role="img" aria-label={live ? 'live updates on' : 'live updates off'} />
          <span title={`tenant ${principal.tenantId}`}>
            {principal.owner} ({principal.role})
          </span>
          <ThemeSelect theme={theme} onChange={setTheme} />
          <button type="button" onClick={signOut}>
            Sign out
          </button>
        </div>
      </header>
      <div role="status" aria-live="polite" className={message ? `banner ${message.kind}` : 'banner empty'}>
        {message ? (
          <>
            <span>{message.text}</span>
            <button type="button" className="link" onClick={() => setMessage(null)} aria-label="Dismiss message">
              ×
            </button>
          </>
        ) : null}
      </div>
      <main id="main" tabIndex={-1}>
        <ApprovalNotifications />
        <ErrorBoundary key={`${route.view}/${route.param ?? ''}`}>
          <RouteView view={route.view} param={route.param} />
        </ErrorBoundary>
      </main>
    </AppContext.Provider>
  );
}

function RouteView({ view, param }: { view: string; param: string | null }) {
  switch (view) {
    case 'sandboxes':
      return param ? <SandboxView id={param} /> : <SandboxesView />;
    case 'approvals':
      return <ApprovalsView />;
    case 'audit':
      return <AuditView />;
    case 'policies':
      return <PoliciesView />;
    case 'templates':
      return <TemplatesView />;
    case 'pools':
      return <PoolsView />;
    case 'volumes':
      return <VolumesView />;
    case 'gateway':
      return <GatewayView />;
    case 'tokens':
      return <TokensView />;
    default:
      return (
        <section>
          <h1>Not found</h1>
          <p>
            No view named “{view}”. <a href="#/sandboxes">Go to sandboxes</a>.
          </p>
        </section>
      );
  }
}

function ThemeSelect({ theme, onChange }: { theme: Theme; onChange: (theme: Theme) => void }) {
  return (
    <label className="theme">
      <span className="visually-hidden">Colour theme</span>
      <select value={theme} onChange={(e) => onChange(e.target.value as Theme)}>
        <option value="system">System theme</option>
        <option value="light">Light</option>
        <option value="dark">Dark</option>
      </select>
    </label>
  );
}

/** A browser notification for each new approval request, when the user has allowed them. */
function ApprovalNotifications() {
  const seen = useRef(new Set<string>());
  const { live } = useApp();
  useEffect(
    () =>
      live.subscribe('approval', ({ kind, approval }) => {
        if (kind !== 'created' || seen.current.has(approval.id)) return;
        seen.current.add(approval.id);
        if (typeof Notification === 'undefined' || Notification.permission !== 'granted' || document.visibilityState === 'visible') return;
        const notification = new Notification('Paddock: approval requested', {
          body: `${approval.owner}: ${approval.action} — ${approval.reason}`,
          tag: approval.id,
        });
        notification.onclick = () => {
          window.focus();
          navigate('#/approvals');
        };
      }),
    [live],
  );
  return null;
}
