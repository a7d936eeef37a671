// Health checks run by the agent beside a task (agents sit behind NAT, so the master cannot
// probe tasks itself): HTTP, TCP, or a command (a Wasm module or native command) in the sandbox.
import net from 'node:net';
import type { HealthCheck } from '../domain/index.js';

export interface ProbeResult {
  alive: boolean;
  cause?: string;
}

export interface ProbeContext {
  host: string;
  /** The task's host ports (`portIndex` picks one). */
  ports: number[];
  /** Runs `command.value` beside the task; resolves with its exit code. */
  runCommand: (command: string, timeoutMs: number) => Promise<number>;
}

function portOf(check: HealthCheck, ports: number[]): number | undefined {
  return check.port ?? ports[check.portIndex ?? 0];
}

async function probeHttp(
  check: HealthCheck,
  ctx: ProbeContext,
  timeoutMs: number,
): Promise<ProbeResult> {
  const port = portOf(check, ctx.ports);
  if (port === undefined) return { alive: false, cause: 'no port to check' };
  const scheme = check.protocol.endsWith('HTTPS') ? 'https' : 'http';
  try {
    const response = await fetch(`${scheme}://${ctx.host}:${port}${check.path ?? '/'}`, {
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'manual',
    });
    await response.arrayBuffer();
    // Marathon: 200–399 is healthy; 1xx is ignored when asked to (fetch never surfaces 1xx).
    if (response.status >= 200 && response.status < 400) return { alive: true };
    return { alive: false, cause: `HTTP ${response.status}` };
  } catch (error) {
    return { alive: false, cause: (error as Error).message };
  }
}

function probeTcp(check: HealthCheck, ctx: ProbeContext, timeoutMs: number): Promise<ProbeResult> {
  const port = portOf(check, ctx.ports);
  if (port === undefined) return Promise.resolve({ alive: false, cause: 'no port to check' });
  return new Promise((resolve) => {
    const socket = net.connect({ host: ctx.host, port });
    const done = (result: ProbeResult) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => done({ alive: false, cause: 'connection timed out' }));
    socket.once('connect', () => done({ alive: true }));
    socket.once('error', (error) => done({ alive: false, cause: error.message }));
  });
}

async function probeCommand(
  check: HealthCheck,
  ctx: ProbeContext,
  timeoutMs: number,
): Promise<ProbeResult> {
  const command = check.command?.value;
  if (!command) return { alive: false, cause: 'no command' };
  try {
    const code = await ctx.runCommand(command, timeoutMs);
    return code === 0 ? { alive: true } : { alive: false, cause: `command exited with ${code}` };
  } catch (error) {
    return { alive: false, cause: (error as Error).message };
  }
}

/** Runs one probe of `check`. Never throws. */
export function probe(check: HealthCheck, ctx: ProbeContext): Promise<ProbeResult> {
  const timeoutMs = check.timeoutSeconds * 1000;
  switch (check.protocol) {
    case 'HTTP':
    case 'HTTPS':
    case 'MESOS_HTTP':
    case 'MESOS_HTTPS':
      return probeHttp(check, ctx, timeoutMs);
    case 'TCP':
    case 'MESOS_TCP':
      return probeTcp(check, ctx, timeoutMs);
    case 'COMMAND':
      return probeCommand(check, ctx, timeoutMs);
    default:
      return Promise.resolve({
        alive: false,
        cause: `unsupported protocol ${String(check.protocol)}`,
      });
  }
}
