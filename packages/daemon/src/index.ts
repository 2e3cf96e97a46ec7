export { loadConfig, defaultPort, type DaemonConfig } from './config/daemon-config.js';
export { startDaemon, type Endpoint, type RunningDaemon } from './daemon.js';
