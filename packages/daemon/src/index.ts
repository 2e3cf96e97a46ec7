export { cgroupParentFor, type DaemonConfig, defaultPort, loadConfig } from './config/daemon-config.js';
export { type Endpoint, type RunningDaemon, startDaemon } from './daemon.js';
