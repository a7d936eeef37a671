// Zod schemas of Marathon's App JSON as clients send it (RAML/v2/types/app.raml). Unknown
// properties are dropped, as Marathon's generated readers ignore them. Defaults are applied
// later by app-normalize.ts, so a partial update can tell "absent" from "default".
import { z } from 'zod';
import { requestSchemas } from '../../openapi/registry.js';

const stringMap = z.record(z.string(), z.string());

export const HealthCheckProtocol = z.enum([
  'HTTP',
  'HTTPS',
  'TCP',
  'COMMAND',
  'MESOS_HTTP',
  'MESOS_HTTPS',
  'MESOS_TCP',
]);

export const FetchUriSchema = z
  .object({
    uri: z.string().min(1),
    extract: z.boolean().optional(),
    executable: z.boolean().optional(),
    cache: z.boolean().optional(),
    destPath: z.string().optional(),
  })
  .register(requestSchemas, {
    id: 'Artifact',
    description: 'A URI the fetcher brings into the sandbox.',
  });

export const PortDefinitionSchema = z
  .object({
    port: z.number().int().min(0).max(65535).optional(),
    protocol: z.string().optional(),
    name: z.string().optional(),
    labels: stringMap.optional(),
  })
  .register(requestSchemas, { id: 'PortDefinition' });

export const PortMappingSchema = z
  .object({
    containerPort: z.number().int().min(0).max(65535).optional(),
    hostPort: z.number().int().min(0).max(65535).optional(),
    servicePort: z.number().int().min(0).max(65535).optional(),
    protocol: z.string().optional(),
    name: z.string().optional(),
    labels: stringMap.optional(),
    networkNames: z.array(z.string()).optional(),
  })
  .register(requestSchemas, { id: 'ContainerPortMapping' });

export const HealthCheckSchema = z
  .object({
    protocol: HealthCheckProtocol.optional(),
    path: z.string().optional(),
    portIndex: z.number().int().min(0).optional(),
    port: z.number().int().min(0).max(65535).optional(),
    command: z.object({ value: z.string() }).optional(),
    gracePeriodSeconds: z.number().int().min(0).optional(),
    intervalSeconds: z.number().int().min(0).optional(),
    timeoutSeconds: z.number().int().min(0).optional(),
    maxConsecutiveFailures: z.number().int().min(0).optional(),
    delaySeconds: z.number().int().min(0).optional(),
    ignoreHttp1xx: z.boolean().optional(),
    ipProtocol: z.enum(['IPv4', 'IPv6']).optional(),
  })
  .register(requestSchemas, { id: 'AppHealthCheck' });

export const ReadinessCheckSchema = z
  .object({
    name: z.string().optional(),
    protocol: z.enum(['HTTP', 'HTTPS']).optional(),
    path: z.string().optional(),
    portName: z.string().optional(),
    intervalSeconds: z.number().int().min(1).optional(),
    timeoutSeconds: z.number().int().min(1).optional(),
    httpStatusCodesForReady: z.array(z.number().int().min(100).max(999)).optional(),
    preserveLastResponse: z.boolean().optional(),
  })
  .register(requestSchemas, { id: 'ReadinessCheck' });

export const UpgradeStrategySchema = z
  .object({
    minimumHealthCapacity: z.number().optional(),
    maximumOverCapacity: z.number().optional(),
  })
  .register(requestSchemas, { id: 'UpgradeStrategy' });

export const UnreachableStrategySchema = z
  .union([
    z.literal('disabled'),
    z.object({
      inactiveAfterSeconds: z.number().int().min(0).optional(),
      expungeAfterSeconds: z.number().int().min(0).optional(),
    }),
  ])
  .register(requestSchemas, { id: 'UnreachableStrategy' });

export const DockerSchema = z
  .object({
    image: z.string().min(1),
    network: z.enum(['HOST', 'BRIDGE', 'USER', 'NONE']).optional(),
    portMappings: z.array(PortMappingSchema).optional(),
    privileged: z.boolean().optional(),
    forcePullImage: z.boolean().optional(),
    parameters: z.array(z.object({ key: z.string(), value: z.string() })).optional(),
    pullConfig: z.unknown().optional(),
  })
  .register(requestSchemas, { id: 'DockerContainer' });

export const ContainerSchema = z
  .object({
    type: z.enum(['DOCKER', 'MESOS']).optional(),
    docker: DockerSchema.optional(),
    volumes: z.array(z.record(z.string(), z.unknown())).optional(),
    portMappings: z.array(PortMappingSchema).optional(),
    linuxInfo: z.record(z.string(), z.unknown()).optional(),
  })
  .register(requestSchemas, { id: 'Container' });

export const NetworkSchema = z
  .object({
    mode: z.enum(['host', 'container', 'container/bridge']).optional(),
    name: z.string().optional(),
    labels: stringMap.optional(),
  })
  .register(requestSchemas, { id: 'Network' });

export const EnvValueSchema = z.union([z.string(), z.object({ secret: z.string() })]);

const limit = z.union([z.number().min(0), z.literal('unlimited')]);

/** Every App field, all optional: the shape of a create, replace or patch body. */
export const AppSchema = z
  .object({
    id: z.string().optional(),
    cmd: z.string().min(1).optional(),
    args: z.array(z.string()).optional(),
    cpus: z.number().min(0.001).optional(),
    mem: z.number().min(0).optional(),
    disk: z.number().min(0).optional(),
    gpus: z.number().int().min(0).optional(),
    instances: z.number().int().min(0).optional(),
    executor: z.string().optional(),
    executorResources: z
      .object({
        cpus: z.number().min(0).optional(),
        mem: z.number().min(0).optional(),
        disk: z.number().min(0).optional(),
      })
      .optional(),
    resourceLimits: z.object({ cpus: limit.optional(), mem: limit.optional() }).optional(),
    container: ContainerSchema.optional(),
    env: z.record(z.string(), EnvValueSchema).optional(),
    secrets: z.record(z.string(), z.object({ source: z.string() })).optional(),
    labels: stringMap.optional(),
    constraints: z.array(z.array(z.string())).optional(),
    acceptedResourceRoles: z.array(z.string()).optional(),
    role: z.string().min(1).optional(),
    healthChecks: z.array(HealthCheckSchema).optional(),
    check: z.record(z.string(), z.unknown()).optional(),
    readinessChecks: z.array(ReadinessCheckSchema).optional(),
    upgradeStrategy: UpgradeStrategySchema.optional(),
    backoffSeconds: z.number().int().min(0).optional(),
    backoffFactor: z.number().min(1).optional(),
    maxLaunchDelaySeconds: z.number().int().min(0).optional(),
    portDefinitions: z.array(PortDefinitionSchema).optional(),
    requirePorts: z.boolean().optional(),
    networks: z.array(NetworkSchema).optional(),
    ports: z.array(z.number().int().min(0).max(65535)).optional(),
    uris: z.array(z.string()).optional(),
    ipAddress: z.record(z.string(), z.unknown()).optional(),
    fetch: z.array(FetchUriSchema).optional(),
    dependencies: z.array(z.string()).optional(),
    user: z.string().optional(),
    killSelection: z.enum(['YOUNGEST_FIRST', 'OLDEST_FIRST']).optional(),
    unreachableStrategy: UnreachableStrategySchema.optional(),
    taskKillGracePeriodSeconds: z.number().int().min(0).optional(),
    tty: z.boolean().optional(),
    residency: z.record(z.string(), z.unknown()).optional(),
    version: z.string().optional(),
    versionInfo: z.record(z.string(), z.unknown()).optional(),
  })
  .register(requestSchemas, {
    id: 'App',
    description:
      'A Marathon app. A first word of `cmd` (or `args[0]`) ending in `.wasm` runs that fetched module with WASI.',
  });

/** An App body as parsed (every field optional). */
export type WireApp = z.infer<typeof AppSchema>;
