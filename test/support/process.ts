/** Process helpers shared with the cluster launcher (cluster/processes.ts). */
export { exitedOrKilled, freePort, sleep } from '../../cluster/processes.js';
