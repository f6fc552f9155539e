/**
 * Entry of the trajectory inspector's webview bundle (dist/webviews/trajectory.js, with its CSS
 * beside it as trajectory.css): acquires the VS Code API, restores the saved state, and says
 * `ready`; the host answers with `open` (or `failed`) and then answers the panel's requests.
 */
import './inspector.css';
import type { HostToInspector, InspectorState, InspectorToHost } from '../../../common/src/webviewMessages';
import { Rpc } from '../common/rpc';
import { vscodeApi } from '../common/vscodeApi';
import { Inspector, type InspectorRpcMap } from './inspector';

const api = vscodeApi<InspectorToHost, InspectorState>();
const rpc = new Rpc<InspectorRpcMap>(api);
const root = document.getElementById('app') ?? document.body.appendChild(document.createElement('div'));
const inspector = new Inspector(root, api, rpc);

window.addEventListener('message', (event: MessageEvent<unknown>) => {
  const m = event.data as HostToInspector | null;
  if (!m || typeof m !== 'object' || typeof (m as { type?: unknown }).type !== 'string') return;
  inspector.onMessage(m);
});
api.postMessage({ type: 'ready' });
