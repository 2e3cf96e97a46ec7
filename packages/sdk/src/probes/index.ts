export { egressProbes } from './egress-probes.js';
export { escapeProbes } from './escape-probes.js';
export { exhaustionProbes } from './exhaustion-probes.js';
export { filesProbes } from './files-probes.js';
export { allTiers, type Probe, type ProbeContext, type ProbeOutcome, py, sh, Verdict } from './probe.js';
export { probeContext, probeLabel, probes, type RunProbesOptions, runProbes } from './run-probes.js';
export { placesHolding, secretsProbes } from './secrets-probes.js';
