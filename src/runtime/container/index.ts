// Public surface of the container driver: OCI images run by podman or the docker CLI.
export { createContainerDriver, type ContainerDriverOptions } from './container-driver.js';
export {
  detectContainerEngine,
  type ContainerEngineInfo,
  type ContainerEngineName,
} from './container-engine.js';
export { parseLogRecord, type ContainerLogFormat, type LogRecord } from './container-log.js';
export { containerRunArgs, ContainerSpecError, type RunArgsInput } from './container-run-args.js';
