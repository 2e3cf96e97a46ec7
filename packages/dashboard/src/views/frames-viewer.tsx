import { useEffect, useState } from 'react';
import { call } from '../api/dashboard-routes.js';
import type { RecordingFrames } from '../api/types.js';
import { useApp } from '../app-context.js';
import { errorText } from '../format.js';
import { useFetch } from './use-fetch.js';

/** A desktop takeover's frames: step through them (a slider, or the arrow keys on it), and download the one shown. */
export function FramesViewer({ sandboxId, sessionId }: { sandboxId: string; sessionId: string }) {
  const { api } = useApp();
  const list = useFetch(
    (signal) => api.json<RecordingFrames>(call('GET /v1/sandboxes/{id}/recordings/{sessionId}/frames', { id: sandboxId, sessionId }), { signal }),
    [sandboxId, sessionId],
  );
  const [at, setAt] = useState(0);
  const [image, setImage] = useState<string>();
  const [failure, setFailure] = useState<string>();
  const frame = list.data?.frames[at];
  const index = frame?.index;
  const path = index === undefined ? undefined : api.url(frameCall(sandboxId, sessionId, index));

  useEffect(() => {
    if (index === undefined) return;
    const stop = new AbortController();
    let url: string | undefined;
    api
      .response(frameCall(sandboxId, sessionId, index), { signal: stop.signal })
      .then((res) => res.blob())
      .then((blob) => {
        url = URL.createObjectURL(blob);
        setImage(url);
        setFailure(undefined);
      })
      .catch((e: unknown) => {
        if (!stop.signal.aborted) setFailure(errorText(e));
      });
    return () => {
      stop.abort();
      if (url) URL.revokeObjectURL(url);
    };
  }, [api, sandboxId, sessionId, index]);

  if (list.error) return <p role="alert">{list.error}</p>;
  if (!list.data) return <p className="loading">Loading the frames…</p>;
  const frames = list.data.frames;
  if (frames.length === 0) return <p>No frames were kept.</p>;
  return (
    <figure className="frames">
      <label>
        Frame {at + 1} of {frames.length}, at {((frame?.atMs ?? 0) / 1000).toFixed(1)} s
        <input type="range" min={0} max={frames.length - 1} value={at} onChange={(e) => setAt(Number(e.target.value))} />
      </label>
      {failure ? <p role="alert">{failure}</p> : null}
      {image ? <img src={image} alt={`Frame ${at + 1} of the takeover ${sessionId}`} className="desktop-screen" /> : null}
      <figcaption>
        {path ? (
          <a href={path} download={`${sessionId}-${String(frame?.index ?? 0).padStart(6, '0')}.png`}>
            Download this frame
          </a>
        ) : null}
      </figcaption>
    </figure>
  );
}

function frameCall(id: string, sessionId: string, index: number) {
  return call('GET /v1/sandboxes/{id}/recordings/{sessionId}/frames/{index}', { id, sessionId, index });
}
