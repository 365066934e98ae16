import { runWorker } from './worker.js';

// The worker's own entry point, forked by the supervisor: it loads only the daemon's modules
// (no CLI, listener or HTTP framework), which keeps a fresh worker's RSS small.
runWorker();
