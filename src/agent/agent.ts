// An agent: offers its resources, runs what the master sends, reports status and logs.
// It only ever dials out (to the bus and the master's artifacts), so it works behind NAT.
import type { HandlerMetrics } from './handler-metrics.js';
import type { Agent as HttpsAgent } from 'node:https';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type {
  Bus,
  AgentMetricsSnapshot,
  CommandMessage,
  HealthMessage,
  LaunchCommand,
  LogMessage,
  OfferMessage,
  TaskLaunchSpec,
} from '../bus/index.js';
import { ANNOUNCEMENTS_KEPT, CommandMessageSchema, isNewerStreamId, topics } from '../bus/index.js';
import type { HostAccess, PortRange, Resources, RoleResources, TaskKind } from '../domain/index.js';
import { failureMessage, taskKindOf, withoutPorts } from '../domain/index.js';
import type { Clock, Logger } from '../lib/index.js';
import type { TaskDriver } from '../runtime/driver.js';
import { createFetcher } from './fetch-artifacts.js';
import { createLogPacer, defaultLogLimits, type LogLimits } from './log-pacer.js';
import { openStatusOutbox, type OutboxLimits } from './status-outbox.js';
import { createTakenPorts } from './taken-ports.js';
import { defaultAgentLimits, type AgentLimits } from './task-limits.js';
import { openTaskRecords, type TaskRecord } from './task-records.js';
import { createTaskRunner, type TaskReport, type TaskRunner } from './task-runner.js';

export interface AgentOptions {
  bus: Bus;
  /**
   * The id the master gave this agent when it joined (credentials.ts). Without one the agent
   * keeps an id of its own and announces it, which only a master not requiring identity hears.
   */
  agentId?: string;
  /** One driver per task kind this agent runs; their kinds are its capabilities. */
  drivers: TaskDriver[];
  hostname: string;
  attributes: Record<string, string>;
  resources: Resources;
  /** Parts of `resources` reserved to roles; offered so the master gives them only to those. */
  reservations?: RoleResources[];
  workDir: string;
  masterUrl?: string;
  /** Fetch policy: ranges allowed although private or loopback, and the cache's bound. */
  fetch?: { allowFrom?: string[]; cacheMaxBytes?: number };
  /** Verifies the master's HTTPS for artifact downloads (`--ca`, lib/tls-client). */
  httpsAgent?: HttpsAgent;
  clock: Clock;
  logger: Logger;
  /** How often the agent offers (and so heartbeats). */
  offerIntervalMs?: number;
  /** Per-task log limits (`defaultLogLimits`, of which `keepLines` lines stay on the bus). */
  logLimits?: Partial<LogLimits>;
  /** Defaults and maxima of Wasm tasks' fuel, timeout and memory (`defaultAgentLimits`). */
  limits?: AgentLimits;
  /** What the operator lets container tasks reach on this host; advertised in every offer. */
  hostAccess?: HostAccess;
  /** Bounds and timing of the on-disk outbox of status updates (`defaultOutboxLimits`). */
  outbox?: Partial<OutboxLimits>;
  /** Handler-mode (WAGI) request figures, fed by the Wasm driver; in every metric snapshot. */
  handlerMetrics?: HandlerMetrics;
}

export interface RunningAgent {
  readonly agentId: string;
  /** Sends an offer now (also done on a timer). */
  offer(): Promise<void>;
  /** Stops reading commands and offering. Running tasks are left running when `keepTasks`. */
  stop(options?: { keepTasks?: boolean }): Promise<void>;
}

/** The agent keeps its id in its work directory, so a restarted agent is the same agent. */
async function loadAgentId(workDir: string): Promise<string> {
  const file = path.join(workDir, 'agent-id');
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    const agentId = `agent-${crypto.randomUUID()}`;
    await writeFile(file, agentId);
    return agentId;
  }
}

export async function startAgent(options: AgentOptions): Promise<RunningAgent> {
  const { bus, hostname, attributes, resources, workDir, clock, logger } = options;
  await mkdir(workDir, { recursive: true });
  const agentId = options.agentId ?? (await loadAgentId(workDir));
  const drivers = new Map<TaskKind, TaskDriver>(options.drivers.map((d) => [d.kind, d]));
  const fetcher = createFetcher({
    cacheDir: path.join(workDir, 'cache'),
    masterUrl: options.masterUrl,
    allowFetchFrom: options.fetch?.allowFrom,
    cacheMaxBytes: options.fetch?.cacheMaxBytes,
    ...(options.httpsAgent ? { httpsAgent: options.httpsAgent } : {}),
  });
  const runners = new Map<string, TaskRunner>();
  const logLimits: LogLimits = { ...defaultLogLimits, ...options.logLimits };
  let logLinesDropped = 0;
  let logBytesDropped = 0;
  /** Fuel of the Wasm tasks that ended here (reported in their final status). */
  let fuelUsed = 0;
  // Status updates (and log batches while the link is down) wait on disk until acknowledged;
  // what an earlier process of this agent left there is replayed first.
  const outbox = await openStatusOutbox({
    bus,
    agentId,
    dir: workDir,
    clock,
    logger,
    ...(options.outbox ? { limits: options.outbox } : {}),
  });
  // The tasks started and not ended, for a restarted agent to find (task-records.ts).
  const records = await openTaskRecords({ dir: workDir, logger });
  let stopping = false;
  const startedAt = clock.now();
  const takenPorts = createTakenPorts({ clock });
  /** The newest command entry handled (offers carry it: `OfferMessage.commandsReadTo`). */
  let commandsReadTo: string | undefined;

  function publish(message: object, stream: string, maxLen?: number): void {
    bus.publish(stream, message, maxLen ? { maxLen } : undefined).catch((error: unknown) => {
      logger.warn({ err: error, stream }, 'could not publish');
    });
  }

  function sendStatus(taskId: string, report: TaskReport): void {
    if (report.fuelUsed !== undefined) fuelUsed += report.fuelUsed;
    outbox.status({ type: 'status', agentId, taskId, at: clock.now(), ...report });
  }

  /**
   * What the runners hold, kept as they come and go: a launch checks what is free, and summing
   * every runner each time made a burst of n launches cost n² (1,000 tasks: a million steps).
   */
  const held = { cpus: 0, memMiB: 0, diskMiB: 0, ports: new Map<number, number>() };

  function hold(spec: TaskLaunchSpec, sign: 1 | -1): void {
    held.cpus += sign * spec.resources.cpus;
    held.memMiB += sign * spec.resources.memMiB;
    held.diskMiB += sign * spec.resources.diskMiB;
    for (const port of spec.ports) {
      const count = (held.ports.get(port) ?? 0) + sign;
      if (count > 0) held.ports.set(port, count);
      else held.ports.delete(port);
    }
    // No runner left: no sum of fractions (0.01 cpus each) left to drift either.
    if (runners.size === 0) Object.assign(held, { cpus: 0, memMiB: 0, diskMiB: 0 });
  }

  function free(): Resources {
    return {
      cpus: resources.cpus - held.cpus,
      memMiB: resources.memMiB - held.memMiB,
      diskMiB: resources.diskMiB - held.diskMiB,
      ports: withoutPorts(resources.ports, [...held.ports.keys(), ...takenPorts.list()]),
    };
  }

  /** The agent's own metrics for the master (it cannot be scraped behind NAT). */
  function metricsSnapshot(): AgentMetricsSnapshot {
    const tasks = new Map<string, AgentMetricsSnapshot['tasks'][number]>();
    for (const runner of runners.values()) {
      const kind = runner.spec.kind;
      const state = runner.state();
      const key = `${kind} ${state}`;
      const row = tasks.get(key) ?? { kind, state, count: 0 };
      row.count++;
      tasks.set(key, row);
    }
    const cpu = process.cpuUsage();
    return {
      tasks: [...tasks.values()],
      fuelUsed,
      memoryBytes: process.memoryUsage.rss(),
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      logBytesDropped,
      fetchCacheBytes: fetcher.cacheBytes(),
      ...(options.handlerMetrics ? { handlerRequests: options.handlerMetrics.snapshot() } : {}),
    };
  }

  /** Fuel the running metered tasks used so far, as their drivers know it. */
  function taskFuel(): NonNullable<OfferMessage['taskFuel']> {
    const list: NonNullable<OfferMessage['taskFuel']> = [];
    for (const [taskId, runner] of runners) {
      const used = drivers.get(runner.spec.kind)?.fuelUsed?.(taskId);
      if (used !== undefined) list.push({ taskId, fuelUsed: used });
    }
    return list;
  }

  async function offer(): Promise<void> {
    const fuel = taskFuel();
    const endedTaskIds = outbox.endedTaskIds();
    const message: OfferMessage = {
      type: 'offer',
      agentId,
      hostname,
      attributes,
      capabilities: [...drivers.keys()],
      ...(options.hostAccess ? { hostAccess: options.hostAccess } : {}),
      total: resources,
      free: free(),
      ...(options.reservations?.length ? { reservations: options.reservations } : {}),
      runningTaskIds: [...runners.keys()],
      ...(commandsReadTo ? { commandsReadTo } : {}),
      ...(fuel.length > 0 ? { taskFuel: fuel } : {}),
      ...(endedTaskIds.length > 0 ? { endedTaskIds } : {}),
      sentAt: clock.now(),
      startedAt,
      logLinesDropped,
      metrics: metricsSnapshot(),
    };
    await bus.publish(topics.offers(agentId), message, { maxLen: 10_000 });
  }

  let isOfferDue = false;

  /**
   * An offer at the end of this turn of the event loop, one for every task that ended in it: a
   * scale-down of hundreds of tasks sent as many offers, each listing every task still running.
   */
  function offerSoon(): void {
    if (isOfferDue || stopping) return;
    isOfferDue = true;
    setImmediate(() => {
      isOfferDue = false;
      if (!stopping) offer().catch(() => undefined);
    });
  }

  /** Why this agent cannot take a launch, or undefined when it can. */
  function refusal(command: LaunchCommand): string | undefined {
    const { spec } = command;
    if (!drivers.has(spec.kind)) return `this agent does not run ${spec.kind} tasks`;
    const available = free();
    if (spec.resources.cpus > available.cpus + 1e-9)
      return `insufficient cpus (${available.cpus} free)`;
    if (spec.resources.memMiB > available.memMiB)
      return `insufficient memory (${available.memMiB} MiB free)`;
    if (spec.resources.diskMiB > available.diskMiB)
      return `insufficient disk (${available.diskMiB} MiB free)`;
    const inRange = (p: number, ranges: PortRange[]) => ranges.some(([b, e]) => p >= b && p <= e);
    const taken = takenPorts.list();
    const heldElsewhere = spec.ports.find((p) => taken.includes(p));
    if (heldElsewhere !== undefined)
      return `port ${heldElsewhere} is held by another process on this host`;
    if (spec.ports.some((p) => !inRange(p, available.ports))) return 'a requested port is not free';
    return undefined;
  }

  function track(taskId: string, runner: TaskRunner, finished: Promise<TaskReport>): void {
    runners.set(taskId, runner);
    hold(runner.spec, 1);
    finished
      .then(
        // Probed before the ports are given back: the offer that follows already leaves out one
        // another process holds (taken-ports.ts).
        async (report) => {
          if (report.state !== 'TASK_FAILED' || runner.spec.ports.length === 0) return;
          const taken = await takenPorts.check(runner.spec.ports);
          if (taken.length > 0)
            logger.warn(
              { taskId, ports: taken },
              'ports held by another process on this host leave the offers for a while',
            );
        },
        (error: unknown) => {
          logger.error({ err: error, taskId }, 'task runner failed');
          sendStatus(taskId, {
            state: 'TASK_FAILED',
            message: failureMessage('TRAP', `agent error: ${String(error)}`),
          });
        },
      )
      .finally(() => {
        runners.delete(taskId);
        hold(runner.spec, -1);
        records.forget(taskId);
        offerSoon();
      });
  }

  function runnerFor(record: TaskRecord): TaskRunner {
    const { taskId, command } = record;
    const driver = drivers.get(command.spec.kind) as TaskDriver;
    // Every driver's lines pass through the pacer: the bus sees batches, never a flood.
    const logs = createLogPacer({
      clock,
      limits: logLimits,
      // Never rejects: while the link is down, batches wait in the outbox.
      publish: (message: LogMessage, maxLen) => outbox.logs(taskId, message, maxLen),
      onDropped: (count, bytes) => {
        logLinesDropped += count;
        logBytesDropped += bytes;
      },
    });
    return createTaskRunner({
      taskId,
      spec: command.spec,
      driver,
      fetcher,
      agentLimits: options.limits ?? defaultAgentLimits,
      sandboxDir: path.join(workDir, 'sandboxes', taskId),
      host: hostname,
      logger,
      report: (report) => sendStatus(taskId, report),
      onLog: (stream, line) => logs.line(stream, line),
      onEnded: () => logs.flush(),
      onHealth: (check, result) => {
        const message: HealthMessage = {
          type: 'health',
          agentId,
          taskId,
          check,
          ...result,
          at: clock.now(),
        };
        publish(message, topics.status(agentId));
      },
      runCommand: (command, probeOptions) => runBeside(taskId, command, probeOptions),
      onStarted: (handle) => records.save({ ...record, handle }),
    });
  }

  let probeCount = 0;

  /** Runs a command health check as a short task of its own kind, in the task's sandbox. */
  async function runBeside(
    taskId: string,
    command: string,
    probe: { sandboxDir: string; env: Record<string, string>; timeoutMs: number },
  ): Promise<number> {
    const kind = taskKindOf({ cmd: command });
    const driver = drivers.get(kind);
    if (!driver)
      throw new Error(`this agent does not run ${kind} commands (health check '${command}')`);
    const probeId = `${taskId}.health-${++probeCount}`;
    await driver.start({
      taskId: probeId,
      kind,
      sandboxDir: probe.sandboxDir,
      cmd: command,
      env: probe.env,
      labels: {},
      ports: [],
      limits: {
        cpus: 0.01,
        memMiB: 32,
        diskMiB: 0,
        timeoutMs: probe.timeoutMs,
        killGracePeriodMs: 0,
      },
      onLog: () => undefined,
    });
    try {
      const exit = await driver.wait(probeId);
      return exit.exitCode ?? (exit.state === 'TASK_FINISHED' ? 0 : 1);
    } finally {
      await driver.destroy(probeId);
    }
  }

  async function onCommand(command: CommandMessage): Promise<void> {
    switch (command.type) {
      case 'launch': {
        const known = runners.get(command.taskId);
        if (known) {
          // A repeated delivery: tell the master where the task is again.
          sendStatus(command.taskId, { state: known.state() });
          return;
        }
        const why = refusal(command);
        if (why) {
          logger.warn({ taskId: command.taskId, why }, 'launch refused');
          sendStatus(command.taskId, { state: 'TASK_DROPPED', message: `Launch refused: ${why}` });
          return;
        }
        const runner = runnerFor({ taskId: command.taskId, command });
        track(command.taskId, runner, runner.run());
        return;
      }
      case 'kill': {
        const runner = runners.get(command.taskId);
        if (runner) await runner.kill();
        // Not here (ended, or never arrived): say it is gone so the master can move on.
        else
          sendStatus(command.taskId, {
            state: 'TASK_KILLED',
            reason: 'KILLED',
            message: failureMessage('KILLED', 'not running on this agent'),
          });
        return;
      }
      case 'reconcile': {
        const wanted = new Set(command.taskIds);
        for (const [taskId, runner] of runners) if (!wanted.has(taskId)) await runner.kill();
        for (const [taskId, runner] of runners) sendStatus(taskId, { state: runner.state() });
        return;
      }
      case 'ack':
        outbox.ack(command.seq);
        return;
      case 'resend':
        outbox.resend();
        return;
      default:
        logger.error({ command }, 'unknown command');
    }
  }

  /** Finds the tasks an earlier process of this agent started. */
  async function recover(): Promise<void> {
    for (const record of records.recovered) {
      if (!record.handle || !drivers.has(record.command.spec.kind)) continue;
      const runner = runnerFor(record);
      logger.info({ taskId: record.taskId }, 'recovering task');
      track(record.taskId, runner, runner.resume(record.handle));
    }
  }

  /** A start that fails after opening its files closes them (a caller may try again). */
  async function closeFiles(): Promise<void> {
    await Promise.allSettled([outbox.close(), records.close()]);
  }

  await recover().catch(async (error: unknown) => {
    await closeFiles();
    throw error;
  });
  const subscription = bus.consume<CommandMessage>({
    stream: topics.commands(agentId),
    group: 'agent',
    consumer: agentId,
    // A malformed command is reported and dropped (acknowledged), never half-handled.
    schema: CommandMessageSchema,
    handler: async (entry) => {
      try {
        await onCommand(entry.message);
      } finally {
        // Handled (or failed for good: a launch that threw runs nothing), in stream order; an
        // entry delivered again later is older and leaves the mark where it is.
        if (!commandsReadTo || isNewerStreamId(entry.id, commandsReadTo)) commandsReadTo = entry.id;
      }
    },
    onError: (error) => logger.error({ err: error }, 'command handling failed'),
  });
  try {
    if (!options.agentId)
      await bus.publish(
        topics.announce,
        { type: 'hello', agentId },
        { maxLen: ANNOUNCEMENTS_KEPT },
      );
    await offer();
  } catch (error) {
    await subscription.stop();
    await closeFiles();
    throw error;
  }
  const timer = setInterval(() => {
    offer().catch((error: unknown) => logger.warn({ err: error }, 'offer failed'));
  }, options.offerIntervalMs ?? 1_000);
  logger.info({ agentId, hostname, resources, capabilities: [...drivers.keys()] }, 'agent started');

  return {
    agentId,
    offer,
    async stop(stopOptions) {
      stopping = true;
      clearInterval(timer);
      await subscription.stop();
      if (!stopOptions?.keepTasks) {
        await Promise.all([...runners.values()].map((r) => r.kill({ shouldDrain: false })));
        for (const driver of drivers.values()) await driver.close();
      }
      // What is queued is written; ends reported after this (tasks still stopping) are not kept:
      // the next start finds their records and reports them gone.
      await outbox.close();
      await records.close();
      logger.info({ agentId }, 'agent stopped');
    },
  };
}
