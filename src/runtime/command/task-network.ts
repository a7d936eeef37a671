// The network of a command task with ports: a namespace of its own made by pasta (Debian's
// `passt`), the task's host ports forwarded into it, the agent's loopback out of its reach.

/**
 * pasta's argv up to (and including) `--`; bwrap and the task follow and run in the new user
 * and network namespace. pasta stays their parent in the agent's pid namespace (so the
 * driver's SIGTERM, which only goes into the sandbox's pid namespace, leaves it alone), exits
 * with the task's status, and dies with the task's process group on SIGKILL.
 *
 * - `-t`/`-u` forward each host port (TCP and UDP) to the same port inside.
 * - `-T none -U none`: nothing inside the namespace's loopback leads out to the host's.
 * - `--no-map-gw`: the gateway address is not mapped to the host's loopback either.
 * Connections out go through pasta's sockets on the host, to addresses other than loopback.
 */
export function pastaArgs(options: { pastaPath: string; ports: readonly number[] }): string[] {
  const ports = options.ports.length > 0 ? options.ports.join(',') : 'none';
  return [
    options.pastaPath,
    '--config-net',
    '--quiet',
    '-t',
    ports,
    '-u',
    ports,
    '-T',
    'none',
    '-U',
    'none',
    '--no-map-gw',
    '--',
  ];
}
