import '@xterm/xterm/css/xterm.css';
import { Terminal } from '@xterm/xterm';
import { useEffect, useRef, useState } from 'react';
import { adoptInlineStyles } from './adopt-inline-styles.js';

interface TerminalViewProps {
  /** The attach WebSocket's path and query: /v1/sandboxes/<id>/processes/<pid>/attach[?mode=view]. */
  path: string;
  readOnly: boolean;
  label: string;
}

type Status = 'connecting' | 'open' | 'closed';

/**
 * A terminal joined to a process over the PTY attach WebSocket. The browser
 * sends the session cookie and its own Origin with the upgrade; the daemon
 * checks both. Keys go out as binary frames (stdin), sizes as JSON text frames.
 */
export function TerminalView({ path, readOnly, label }: TerminalViewProps) {
  const box = useRef<HTMLElement>(null);
  const [status, setStatus] = useState<Status>('connecting');
  const [closeText, setCloseText] = useState('');

  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const releaseStyles = adoptInlineStyles(element);
    const term = new Terminal({ convertEol: false, disableStdin: readOnly, cursorBlink: !readOnly, fontSize: 14, rows: 24, cols: 100 });
    term.open(element);
    const scheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
    const socket = new WebSocket(`${scheme}//${window.location.host}${path}`);
    socket.binaryType = 'arraybuffer';
    const encoder = new TextEncoder();
    socket.onopen = () => {
      setStatus('open');
      if (!readOnly) socket.send(JSON.stringify({ type: 'resize', cols: term.cols, rows: term.rows }));
      term.focus();
    };
    socket.onmessage = (event) => {
      if (event.data instanceof ArrayBuffer) {
        term.write(new Uint8Array(event.data, 1));
        return;
      }
      try {
        const message = JSON.parse(String(event.data)) as { type: string; result?: { exitCode: number | null }; error?: { message: string } };
        if (message.type === 'exit') setCloseText(`the shell exited (code ${message.result?.exitCode ?? '?'})`);
        if (message.type === 'error') setCloseText(message.error?.message ?? 'error');
      } catch {
        // Not a message of the protocol: nothing to show.
      }
    };
    socket.onclose = (event) => {
      setStatus('closed');
      if (event.reason) setCloseText((text) => text || event.reason);
    };
    const input = term.onData((data) => {
      if (!readOnly && socket.readyState === WebSocket.OPEN) socket.send(encoder.encode(data));
    });
    return () => {
      input.dispose();
      socket.close();
      term.dispose();
      releaseStyles();
    };
  }, [path, readOnly]);

  return (
    <div className="terminal">
      <p className="hint" aria-live="polite">
        {readOnly ? 'Watching read-only. ' : ''}
        {status === 'connecting' ? 'Connecting…' : status === 'open' ? 'Connected.' : `Disconnected${closeText ? `: ${closeText}` : '.'}`}
      </p>
      <section ref={box} className="terminal-box" aria-label={label} data-terminal-status={status} />
    </div>
  );
}
