// Public surface of the command driver: native commands in a bubblewrap sandbox, plus the
// pieces the container driver shares (log following, exit mapping, cgroup v1 memory).
export {
  createCommandDriver,
  type CommandDriver,
  type CommandDriverOptions,
  type MemoryLimitMode,
  SandboxUnavailableError,
} from './command-driver.js';
export { diskUsageBytes } from './disk-usage.js';
export {
  createFileFollower,
  type FileFollower,
  type FileFollowerOptions,
} from './file-follower.js';
export { findExecutable } from './find-executable.js';
export { createLineSplitter, type LineSplitter } from '../line-splitter.js';
export {
  canUseMemoryCgroup,
  DEFAULT_MEMORY_CGROUP_ROOT,
  openMemoryCgroup,
  type MemoryCgroup,
} from './memory-cgroup.js';
export {
  isProcessRunning,
  listProcessGroup,
  readProcessStat,
  type ProcessStat,
} from './process-table.js';
export {
  fileSize,
  newProcessTask,
  processTaskMethods,
  readRecoveryData,
  stopProcessTask,
  type ProcessTask,
} from './process-task.js';
export {
  openAppendOnly,
  openForReading,
  UnsafeFileError,
  type FileIdentity,
} from './task-files.js';
export { describeStatus, toTaskExit, type EndedTask, type StopCause } from './task-exit.js';
