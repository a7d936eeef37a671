// The API's checks of every app value that reaches an engine's or a sandbox's command line:
// image references, volume paths, docker parameter keys, port protocols, env names, NULs.
// The agent checks the same again (runtime/container/container-run-args.ts): defence in depth.
import {
  containerPathProblem,
  hostPathProblem,
  isDockerParameterKey,
  isImageReference,
} from '../../../domain/index.js';
import type { Violation } from '../../../domain/index.js';
import type { AppSpec } from '../../../domain/index.js';

const PROTOCOLS = new Set(['tcp', 'udp', 'sctp']);

/** Adds a violation (Marathon path syntax) for each container value an agent would refuse. */
export function checkContainerValues(app: AppSpec, violations: Violation[]): void {
  const container = app.container;
  if (!container) return;
  const image = container.docker?.image;
  if (image !== undefined && image !== '' && !isImageReference(image)) {
    violations.push({
      path: '/container/docker/image',
      errors: ['must be an image reference such as registry.example:5000/team/app:1.0'],
    });
  }
  (container.docker?.parameters ?? []).forEach((parameter, i) => {
    if (!isDockerParameterKey(parameter.key)) {
      violations.push({
        path: `/container/docker/parameters(${i})/key`,
        errors: ['must be an engine option name such as shm-size (lower case, digits, -)'],
      });
    }
    if (parameter.value.includes('\0')) {
      violations.push({
        path: `/container/docker/parameters(${i})/value`,
        errors: ['must not contain NUL'],
      });
    }
  });
  container.volumes.forEach((raw, i) => {
    const volume = raw as { hostPath?: unknown; containerPath?: unknown };
    const path = `/container/volumes(${i})`;
    if (typeof volume.hostPath === 'string' && volume.hostPath !== '') {
      const problem = hostPathProblem(volume.hostPath);
      if (problem) violations.push({ path: `${path}/hostPath`, errors: [problem] });
    }
    if (typeof volume.containerPath === 'string' && volume.containerPath !== '') {
      const problem = containerPathProblem(volume.containerPath);
      if (problem) violations.push({ path: `${path}/containerPath`, errors: [problem] });
    }
  });
  (container.portMappings ?? []).forEach((mapping, i) => {
    const protocols = (mapping.protocol ?? 'tcp').split(',').map((p) => p.trim());
    if (!protocols.every((p) => PROTOCOLS.has(p))) {
      violations.push({
        path: `/container/portMappings(${i})/protocol`,
        errors: ['must be tcp, udp or sctp (or a comma-separated list of them)'],
      });
    }
  });
}

/**
 * Env names become `NAME=value` entries of an environment or an env file: a name holding `=`,
 * NUL or a line break would set another variable than the one named.
 */
export function checkCommandLineValues(app: AppSpec, violations: Violation[]): void {
  for (const [name, value] of Object.entries(app.env)) {
    if (name === '' || /[=\0\r\n]/.test(name)) {
      violations.push({
        path: `/env/${name}`,
        errors: ['name must not be empty or contain =, NUL or line breaks'],
      });
    } else if (typeof value === 'string' && value.includes('\0')) {
      violations.push({ path: `/env/${name}`, errors: ['must not contain NUL'] });
    }
  }
  if (app.cmd?.includes('\0')) violations.push({ path: '/cmd', errors: ['must not contain NUL'] });
  (app.args ?? []).forEach((arg, i) => {
    if (arg.includes('\0'))
      violations.push({ path: `/args(${i})`, errors: ['must not contain NUL'] });
  });
}
