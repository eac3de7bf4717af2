/**
 * The runner's side of a fan-out run. For each message: ask the load generator to say when
 * every session has it, tell the server to send it (one IPC message, the same trigger for
 * every target), wait. The next message goes only once the last session has the previous
 * one, so each message's latency is its own, not the queue of those before it, and each
 * message is alone in its event-loop turn, as the events of a chat or a feed are.
 */
import type { CpuReply, FanOutArrival, IpcPeer } from './ipc';
import type { RunRecord } from './report';
import type { ScenarioSpec } from './scenarios';
import { epochNow } from './fan-out-message';
import { systemCallsPerUnit } from './host';

/** One message to every session, at most this long: 15,000 sessions take about a second. */
const MESSAGE_TIMEOUT_MS = 60_000;

export interface FanOutPlan {
  /** Messages measured. */
  messages: number;
  /** Messages sent before, unmeasured: code paths warmed, buffers grown. */
  warmup: number;
}

const cpuMicros = (usage: CpuReply): number => usage.user + usage.system;

/** Latency of one message: from the trigger to the last session having it, milliseconds. */
async function sendOne(
  server: IpcPeer,
  client: IpcPeer,
  spec: ScenarioSpec,
  index: number,
): Promise<{ latencyMs: number; arrival: FanOutArrival }> {
  const arrived = client.request<FanOutArrival>(
    { type: 'fanout-arrival', index, timeoutMs: MESSAGE_TIMEOUT_MS },
    MESSAGE_TIMEOUT_MS + 5000,
  );
  const triggered = epochNow();
  await server.request({ type: 'fanout', index, bytes: spec.messageBytes }, MESSAGE_TIMEOUT_MS);
  const arrival = await arrived;
  return { latencyMs: arrival.lastArrival - triggered, arrival };
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/**
 * Sends the warm-up and measured messages; the figures of the measured ones. `machineBusy`
 * reads the whole machine's busy time, for the "other CPU" column.
 */
export async function measureFanOut(
  server: IpcPeer,
  client: IpcPeer,
  spec: ScenarioSpec,
  plan: FanOutPlan,
  machineBusy: () => number | null,
  /** With `--profile`: a CPU profile of the server over the measured messages. */
  profile: { start(): Promise<unknown>; stop(): Promise<unknown> } | null = null,
): Promise<Partial<RunRecord>> {
  let index = 0;
  let last: FanOutArrival | null = null;
  for (; index < plan.warmup; index++) last = (await sendOne(server, client, spec, index)).arrival;
  if (profile !== null) await profile.start();
  const started = performance.now();
  const machineBefore = machineBusy();
  const cpuBefore = await server.request<CpuReply>({ type: 'cpu' }, 10_000);
  const clientBefore = last?.clientCpuMicros ?? 0;
  const latencies: number[] = [];
  for (let i = 0; i < plan.messages; i++, index++) {
    const sent = await sendOne(server, client, spec, index);
    latencies.push(sent.latencyMs);
    last = sent.arrival;
  }
  const cpuAfter = await server.request<CpuReply>({ type: 'cpu' }, 10_000);
  const machineAfter = machineBusy();
  const elapsedMs = performance.now() - started;
  if (profile !== null) await profile.stop();
  const serverMicros = cpuMicros(cpuAfter) - cpuMicros(cpuBefore);
  const clientMicros = (last?.clientCpuMicros ?? 0) - clientBefore;
  const delivered = plan.messages * spec.sessions;
  latencies.sort((a, b) => a - b);
  return {
    count: delivered,
    sessions: spec.sessions,
    elapsedMs,
    cpuPerUnitUs: serverMicros / delivered,
    kernelPerUnitUs: (cpuAfter.system - cpuBefore.system) / delivered,
    ...systemCallsPerUnit(cpuBefore, cpuAfter, delivered),
    serverCpu: serverMicros / 1000 / elapsedMs,
    clientCpu: clientMicros / 1000 / elapsedMs,
    otherCpu:
      machineBefore === null || machineAfter === null
        ? NaN
        : Math.max(0, machineAfter - machineBefore - serverMicros - clientMicros) / 1000 / elapsedMs,
    ratePerSecond: (delivered * 1000) / elapsedMs,
    p50: quantile(latencies, 0.5),
    p90: quantile(latencies, 0.9),
    p99: quantile(latencies, 0.99),
    errors: last?.errors ?? 0,
  };
}
