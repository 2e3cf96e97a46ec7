import RFB from '@novnc/novnc';
import { useEffect, useRef, useState } from 'react';

type Status = 'connecting' | 'connected' | 'ended' | 'lost';

const statusText: Record<Status, string> = {
  connecting: 'Connecting to the screen…',
  connected: 'Live',
  ended: 'The live view ended.',
  lost: 'The live view was refused or lost; it reconnects when the page does.',
};

/**
 * noVNC's client on the daemon's own VNC WebSocket (same origin: the session
 * cookie signs it in). A watcher's view is view-only here and, whatever this
 * page sends, at the daemon too; the taker's takes mouse and keyboard.
 */
export function VncView({ path, viewOnly, label }: { path: string; viewOnly: boolean; label: string }) {
  const box = useRef<HTMLElement>(null);
  const [status, setStatus] = useState<Status>('connecting');

  useEffect(() => {
    const target = box.current;
    if (!target) return;
    const url = new URL(path, window.location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    setStatus('connecting');
    const rfb = new RFB(target, url.href, { shared: true });
    rfb.viewOnly = viewOnly;
    rfb.scaleViewport = true;
    rfb.focusOnClick = !viewOnly;
    rfb.background = 'transparent';
    rfb.addEventListener('connect', () => setStatus('connected'));
    rfb.addEventListener('disconnect', (e) => setStatus((e as CustomEvent<{ clean: boolean }>).detail.clean ? 'ended' : 'lost'));
    return () => rfb.disconnect();
  }, [path, viewOnly]);

  return (
    <>
      <p className="vnc-status" aria-live="polite">
        {statusText[status]}
      </p>
      <section ref={box} className={viewOnly ? 'vnc-screen' : 'vnc-screen controlled'} aria-label={label} />
    </>
  );
}
