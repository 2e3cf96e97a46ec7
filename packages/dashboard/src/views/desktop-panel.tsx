import { lazy, Suspense } from 'react';
import { call } from '../api/dashboard-routes.js';
import type { SandboxInfo } from '../api/types.js';
import { useApp } from '../app-context.js';

// noVNC loads when a desktop is first shown, not with the list.
const VncView = lazy(() => import('../desktop/vnc-view.js').then((m) => ({ default: m.VncView })));

/**
 * The live view of a desktop sandbox (noVNC over the daemon's VNC
 * WebSocket), view-only for everyone who may see it. The person who took the
 * sandbox over gets the stream that takes their mouse and keyboard; the
 * agent's input is refused meanwhile, and the screen is recorded as frames
 * until the handback.
 */
export function DesktopPanel({ sandbox }: { sandbox: SandboxInfo }) {
  const { api, session } = useApp();
  const control = sandbox.control;
  const mine = control?.mode === 'human' && control.by === session.principal.id;
  const path = api.url(call('GET /v1/sandboxes/{id}/desktop/vnc', { id: sandbox.id }), { mode: mine ? 'control' : 'view' });

  return (
    <section id="desktop" tabIndex={-1} aria-labelledby="desktop-title">
      <h2 id="desktop-title">Desktop</h2>
      <p>
        {mine
          ? 'You control this desktop: click on it, or click it and type. The agent’s input is refused, and the screen recorded, until you hand back.'
          : control?.mode === 'human'
            ? `${control.by} controls this desktop; you watch it live, view-only.`
            : 'The live view, view-only. Take over (above) to use the mouse and keyboard.'}
      </p>
      <Suspense fallback={<p className="loading">Loading the live view…</p>}>
        <VncView key={path} path={path} viewOnly={!mine} label={`Screen of ${sandbox.id}`} />
      </Suspense>
    </section>
  );
}
