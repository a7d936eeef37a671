// What a command task's handle carries so that a later agent process can find it again.
import { z } from 'zod';

export const CommandRecoveryData = z.object({
  driver: z.literal('command'),
  /** The task wrapper (task-wrapper.ts): leader of the task's process group. */
  pid: z.number().int().positive(),
  /** The wrapper's start time in clock ticks since boot: tells it from a later process with the same pid. */
  startTicks: z.number().int(),
  /** The agent's state directory of this task (exit status). */
  taskStateDir: z.string(),
  exitFile: z.string(),
  sandboxDir: z.string(),
  stdoutFile: z.string(),
  stderrFile: z.string(),
  /** Which files the agent created: after a restart only those are read again. */
  stdoutIdentity: z.object({ dev: z.number(), ino: z.number() }).optional(),
  stderrIdentity: z.object({ dev: z.number(), ino: z.number() }).optional(),
  isBubblewrap: z.boolean(),
  memoryLimit: z.enum(['cgroup', 'address-space', 'none']),
  cgroupPath: z.string().optional(),
  /** The task's CPU cgroup (cpu-cgroup.ts), when the host has one. */
  cpuCgroupPath: z.string().optional(),
  memMiB: z.number(),
  diskMiB: z.number(),
  killGracePeriodMs: z.number(),
  /** 0 = no wall-clock limit. */
  timeoutMs: z.number(),
});
export type CommandRecoveryData = z.infer<typeof CommandRecoveryData>;
