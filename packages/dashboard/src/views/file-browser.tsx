import { type ChangeEvent, useState } from 'react';
import { call } from '../api/dashboard-routes.js';
import type { FileEntry } from '../api/types.js';
import { useApp } from '../app-context.js';
import { errorText, formatBytes, formatTime } from '../format.js';
import { useFetch } from './use-fetch.js';

// Shown in the page up to this size; larger files are offered for download only.
const maxViewBytes = 256 * 1024;

export function FileBrowser({ id }: { id: string }) {
  const { api, notify } = useApp();
  const [dir, setDir] = useState('/');
  const [viewing, setViewing] = useState<{ path: string; text: string } | null>(null);
  const listing = useFetch(
    (signal) =>
      api
        .json<{ entries: FileEntry[] }>(call('GET /v1/sandboxes/{id}/files/list', { id }), { query: { path: dir }, signal })
        .then((b) => b.entries.sort((a, z) => Number(z.type === 'dir') - Number(a.type === 'dir') || a.name.localeCompare(z.name))),
    [id, dir],
  );
  const fileUrl = (path: string) => api.url(call('GET /v1/sandboxes/{id}/files', { id }), { path });
  const join = (name: string) => (dir.endsWith('/') ? dir + name : `${dir}/${name}`);
  const up = dir === '/' ? null : dir.replace(/\/[^/]+\/?$/, '') || '/';

  const view = async (entry: FileEntry) => {
    try {
      const res = await api.response(call('GET /v1/sandboxes/{id}/files', { id }), { query: { path: entry.path } });
      const bytes = new Uint8Array(await res.arrayBuffer());
      setViewing({ path: entry.path, text: new TextDecoder().decode(bytes.subarray(0, maxViewBytes)) });
    } catch (e) {
      notify(`Refused — ${errorText(e)}`, 'error');
    }
  };
  const upload = async (e: ChangeEvent<HTMLInputElement>) => {
    const file = e.target.files?.[0];
    e.target.value = '';
    if (!file) return;
    try {
      await api.response(call('PUT /v1/sandboxes/{id}/files', { id }), { query: { path: join(file.name) }, raw: file, timeoutMs: 300_000 });
      notify(`${file.name} uploaded to ${dir}`);
      listing.reload();
    } catch (err) {
      notify(`Refused — ${errorText(err)}`, 'error');
    }
  };

  return (
    <section id="files" tabIndex={-1} aria-labelledby="files-title">
      <h2 id="files-title">Files</h2>
      <div className="toolbar">
        <span>
          In <code>{dir}</code>
        </span>
        {up !== null ? (
          <button type="button" onClick={() => setDir(up)}>
            Up
          </button>
        ) : null}
        <label className="upload">
          Upload a file here
          <input type="file" onChange={(e) => void upload(e)} />
        </label>
      </div>
      {listing.error ? (
        <p role="alert" className="error refused">
          {listing.error}
        </p>
      ) : null}
      {listing.data ? (
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Size</th>
              <th scope="col">Modified</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {listing.data.map((entry) => (
              <tr key={entry.path}>
                <td>
                  {entry.type === 'dir' ? (
                    <button type="button" className="link" onClick={() => setDir(entry.path)}>
                      {entry.name}/
                    </button>
                  ) : (
                    entry.name
                  )}
                  {entry.symlinkTarget ? ` → ${entry.symlinkTarget}` : ''}
                </td>
                <td>{entry.type === 'file' ? formatBytes(entry.size) : entry.type}</td>
                <td>{formatTime(entry.mtime)}</td>
                <td>
                  {entry.type === 'file' ? (
                    <>
                      <button type="button" className="link" onClick={() => void view(entry)} aria-label={`View ${entry.name}`}>
                        View
                      </button>{' '}
                      <a href={fileUrl(entry.path)} download={entry.name} aria-label={`Download ${entry.name}`}>
                        Download
                      </a>
                    </>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {viewing ? (
        <figure>
          <figcaption>
            {viewing.path}{' '}
            <button type="button" className="link" onClick={() => setViewing(null)}>
              Close
            </button>
          </figcaption>
          <pre className="output">{viewing.text}</pre>
        </figure>
      ) : null}
    </section>
  );
}
