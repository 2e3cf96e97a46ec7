import { type KeyboardEvent, type MouseEvent, useEffect, useRef, useState } from 'react';
import { call } from '../api/dashboard-routes.js';
import type { SandboxInfo } from '../api/types.js';
import { useApp } from '../app-context.js';
import { errorText } from '../format.js';

/** How often the live view asks for a new frame. */
const frameMs = 1000;

/**
 * The live view of a desktop sandbox: its screen, a frame a second, for
 * everyone who may see it. The person who took the sandbox over also acts
 * on it: a click on the picture clicks there, keys typed while it has the
 * focus go to the focused window (through the API, as their own calls: the
 * agent's are refused meanwhile, and every one is audited).
 */
export function DesktopPanel({ sandbox }: { sandbox: SandboxInfo }) {
  const { api, session, notify } = useApp();
  const [frame, setFrame] = useState<string>();
  const [failure, setFailure] = useState<string>();
  const image = useRef<HTMLImageElement>(null);
  const control = sandbox.control;
  const mine = control?.mode === 'human' && control.by === session.principal.id;
  const id = sandbox.id;

  useEffect(() => {
    const stop = new AbortController();
    let url: string | undefined;
    const next = async () => {
      while (!stop.signal.aborted) {
        try {
          const res = await api.response(call('GET /v1/sandboxes/{id}/desktop/screenshot', { id }), { signal: stop.signal });
          const blob = await res.blob();
          if (url) URL.revokeObjectURL(url);
          url = URL.createObjectURL(blob);
          setFrame(url);
          setFailure(undefined);
        } catch (e) {
          if (stop.signal.aborted) return;
          setFailure(errorText(e));
        }
        await new Promise((r) => setTimeout(r, frameMs));
      }
    };
    void next();
    return () => {
      stop.abort();
      if (url) URL.revokeObjectURL(url);
    };
  }, [api, id]);

  const act = async (actions: unknown[]) => {
    try {
      await api.json(call('POST /v1/sandboxes/{id}/desktop/actions', { id }), { body: { actions } });
    } catch (e) {
      notify(`Refused — ${errorText(e)}`, 'error');
    }
  };
  const onClick = (e: MouseEvent<HTMLImageElement>) => {
    const img = image.current;
    if (!mine || !img?.naturalWidth) return;
    const rect = img.getBoundingClientRect();
    const x = Math.floor(((e.clientX - rect.left) / rect.width) * img.naturalWidth);
    const y = Math.floor(((e.clientY - rect.top) / rect.height) * img.naturalHeight);
    void act([{ type: 'click', x, y }]);
  };
  const onKey = (e: KeyboardEvent<HTMLImageElement>) => {
    if (!mine) return;
    e.preventDefault();
    if (e.key.length === 1 && !e.ctrlKey && !e.altKey && !e.metaKey) void act([{ type: 'type', text: e.key }]);
    else if (keyNames[e.key] || e.key.length === 1) {
      const keys = [...(e.ctrlKey ? ['ctrl'] : []), ...(e.altKey ? ['alt'] : []), ...(e.shiftKey ? ['shift'] : []), keyNames[e.key] ?? e.key.toLowerCase()];
      void act([{ type: 'key', keys }]);
    }
  };

  return (
    <section id="desktop" tabIndex={-1} aria-labelledby="desktop-title">
      <h2 id="desktop-title">Desktop</h2>
      <p>
        {mine
          ? 'You control this desktop: click on it, or focus it and type. The agent’s input is refused until you hand back.'
          : 'The live view, a frame a second. Take over (above) to use the mouse and keyboard.'}
      </p>
      {failure ? <p role="alert">{failure}</p> : null}
      {frame ? (
        <img
          ref={image}
          src={frame}
          alt={`Screen of ${sandbox.id}`}
          className={mine ? 'desktop-screen controlled' : 'desktop-screen'}
          tabIndex={mine ? 0 : -1}
          onClick={onClick}
          onKeyDown={onKey}
        />
      ) : null}
    </section>
  );
}

const keyNames: Record<string, string> = {
  Enter: 'enter',
  Tab: 'tab',
  Escape: 'escape',
  Backspace: 'backspace',
  Delete: 'delete',
  ArrowUp: 'up',
  ArrowDown: 'down',
  ArrowLeft: 'left',
  ArrowRight: 'right',
  Home: 'home',
  End: 'end',
  PageUp: 'pageup',
  PageDown: 'pagedown',
  ' ': 'space',
};
