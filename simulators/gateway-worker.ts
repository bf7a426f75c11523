import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { VirtualClock } from '../src/clock.js';
import { hostGateway, toWorkerError, type GatewayHost, type GatewayWorkerData, type WorkerMessage, type WorkerMethod, type WorkerRequest } from './gateway-host.js';

/**
 * The gateway of a virtual-time run in a worker thread (started by in-process.ts), so that
 * the device fleet (mqtt.js clients, main thread) and the gateway use a core each. The clock is
 * a VirtualClock over the main thread's buffer: the driver sets it, the gateway reads it.
 * GatewayHost calls arrive as messages and are answered in kind (protocol in gateway-host.ts).
 */
if (isMainThread || !parentPort) throw new Error('gateway-worker.ts runs in a worker thread (see simulators/in-process.ts)');
const port = parentPort;
const post = (m: WorkerMessage) => port.postMessage(m);
const data = workerData as GatewayWorkerData;

function serve(host: GatewayHost): void {
  const methods: Record<WorkerMethod, (args: unknown[]) => Promise<unknown>> = {
    flush: () => host.flush(),
    processed: () => host.processed(),
    settle: ([published, timeoutMs]) => host.settle(published as number, timeoutMs as number | undefined),
    settleConnections: ([connected, timeoutMs]) => host.settleConnections(connected as number, timeoutMs as number | undefined),
    dailyActivity: ([ids, fromDay, toDay]) => host.dailyActivity(ids as string[], fromDay as string, toDay as string),
    close: () => host.close(),
  };
  port.on('message', (req: WorkerRequest) => {
    const call = Object.hasOwn(methods, req.method) ? methods[req.method] : undefined;
    if (!call) {
      post({ type: 'error', id: req.id, error: { name: 'Error', message: `no method ${String(req.method)}` } });
      return;
    }
    call(req.args).then(
      (result) => post({ type: 'reply', id: req.id, result }),
      (err: unknown) => post({ type: 'error', id: req.id, error: toWorkerError(err) }),
    );
  });
  post({ type: 'ready', mqttPort: host.mqttPort, httpPort: host.httpPort, httpHost: host.httpHost });
}

// A start-up failure is reported, not thrown: the main thread rejects with it and terminates this thread.
// (No top-level await: in-process.ts loads this file through tsx's CommonJS hook.)
void hostGateway(data.env, new VirtualClock(data.clock)).then(serve, (err: unknown) => post({ type: 'failed', error: toWorkerError(err) }));
