// Zod schemas of the JSON the API answers with. They build the OpenAPI document and the
// contract tests check every response against it; they are closed (no extra fields).
import { z } from 'zod';
import { MesosTaskState } from '../../../domain/index.js';
import { responseSchemas } from '../../openapi/registry.js';
import { AppSchema } from './app-schema.js';

const timestamp = z.string().regex(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

export const ViolationSchema = z.object({ path: z.string(), errors: z.array(z.string()) });

export const ErrorBodySchema = z
  .object({
    message: z.string(),
    details: z.union([z.string(), z.array(ViolationSchema)]).optional(),
    deployments: z.array(z.object({ id: z.string() })).optional(),
  })
  .register(responseSchemas, { id: 'Error', description: "Marathon's error body." });

export const DeploymentResultSchema = z
  .object({ deploymentId: z.string(), version: timestamp })
  .register(responseSchemas, {
    id: 'DeploymentResult',
    description: 'The deployment a change started (also in the `Marathon-Deployment-Id` header).',
  });

/** The App as the server writes it: defaults applied, deprecated input-only fields never sent. */
export const AppDefinitionSchema = AppSchema.omit({
  ports: true,
  uris: true,
  ipAddress: true,
  residency: true,
  check: true,
})
  .required({
    id: true,
    backoffFactor: true,
    backoffSeconds: true,
    cpus: true,
    disk: true,
    executor: true,
    gpus: true,
    instances: true,
    killSelection: true,
    labels: true,
    maxLaunchDelaySeconds: true,
    mem: true,
    networks: true,
    requirePorts: true,
    role: true,
    unreachableStrategy: true,
    upgradeStrategy: true,
    version: true,
  })
  .extend({
    version: timestamp,
    versionInfo: z.object({ lastScalingAt: timestamp, lastConfigChangeAt: timestamp }),
  })
  .register(responseSchemas, { id: 'AppDefinition', description: 'A stored app version.' });

export const HealthSchema = z.object({
  alive: z.boolean(),
  consecutiveFailures: z.number().int(),
  firstSuccess: timestamp.optional(),
  lastSuccess: timestamp.optional(),
  lastFailure: timestamp.optional(),
  lastFailureCause: z.string().optional(),
  instanceId: z.string(),
});

export const TaskSchema = z
  .object({
    appId: z.string(),
    id: z.string(),
    host: z.string(),
    state: z.enum(MesosTaskState),
    role: z.string(),
    healthCheckResults: z.array(HealthSchema),
    ipAddresses: z.array(z.object({ ipAddress: z.string(), protocol: z.enum(['IPv4', 'IPv6']) })),
    ports: z.array(z.number().int()),
    servicePorts: z.array(z.number().int()),
    localVolumes: z.array(z.unknown()),
    slaveId: z.string().optional(),
    stagedAt: timestamp.optional(),
    startedAt: timestamp.optional(),
    version: timestamp.optional(),
    fuelUsed: z.number().int().nonnegative().optional().meta({
      description:
        "Pacer's own, only with `?fuel=true` on `/v2/apps/{id}/tasks`: fuel a metered Wasm task used (final once ended, else as of its agent's last offer).",
    }),
  })
  .register(responseSchemas, { id: 'Task', description: 'A task in Marathon’s shape.' });

export const TaskFailureSchema = z
  .object({
    appId: z.string(),
    host: z.string(),
    message: z.string(),
    state: z.string(),
    taskId: z.string(),
    timestamp: timestamp,
    version: timestamp,
    slaveId: z.string().optional(),
  })
  .register(responseSchemas, { id: 'TaskFailure' });

export const AppInfoSchema = AppDefinitionSchema.extend({
  tasksStaged: z.number().int(),
  tasksRunning: z.number().int(),
  tasksHealthy: z.number().int(),
  tasksUnhealthy: z.number().int(),
  deployments: z.array(z.object({ id: z.string() })),
  readinessCheckResults: z.array(z.unknown()).optional(),
  tasks: z.array(TaskSchema).optional(),
  lastTaskFailure: TaskFailureSchema.optional(),
}).register(responseSchemas, {
  id: 'AppInfo',
  description: 'An app with its counts and, as embedded, tasks.',
});

export const AppListSchema = z
  .object({ apps: z.array(AppInfoSchema) })
  .register(responseSchemas, { id: 'AppList' });

export const AppSingleSchema = z
  .object({ app: AppInfoSchema })
  .register(responseSchemas, { id: 'AppSingle' });

export const GroupAppsSchema = z
  .object({ '*': z.array(AppInfoSchema) })
  .register(responseSchemas, { id: 'GroupAppList' });

export const TaskListSchema = z
  .object({ tasks: z.array(TaskSchema) })
  .register(responseSchemas, { id: 'TaskList' });

export const TaskSingleSchema = z
  .object({ task: TaskSchema })
  .register(responseSchemas, { id: 'TaskSingle' });

export const VersionListSchema = z
  .object({ versions: z.array(timestamp) })
  .register(responseSchemas, { id: 'VersionList' });

const ActionSchema = z.object({
  action: z.enum(['StartApplication', 'StopApplication', 'ScaleApplication', 'RestartApplication']),
  app: z.string(),
});

export const DeploymentSchema = z
  .object({
    id: z.string(),
    version: timestamp,
    affectedApps: z.array(z.string()),
    affectedPods: z.array(z.string()),
    steps: z.array(z.object({ actions: z.array(ActionSchema) })),
    currentActions: z.array(ActionSchema.extend({ readinessCheckResults: z.array(z.unknown()) })),
    currentStep: z.number().int(),
    totalSteps: z.number().int(),
  })
  .register(responseSchemas, { id: 'DeploymentStepInfo' });

export const DeploymentListSchema = z
  .array(DeploymentSchema)
  .register(responseSchemas, { id: 'DeploymentList' });

export const InfoSchema = z
  .object({
    name: z.string(),
    version: z.string(),
    buildref: z.string(),
    elected: z.boolean(),
    leader: z.string(),
    frameworkId: z.string(),
    marathon_config: z.record(z.string(), z.unknown()),
    zookeeper_config: z.record(z.string(), z.unknown()),
    http_config: z.record(z.string(), z.unknown()),
  })
  .register(responseSchemas, { id: 'Info' });

export const LeaderSchema = z
  .object({ leader: z.string() })
  .register(responseSchemas, { id: 'Leader' });

export const PluginListSchema = z
  .object({
    plugins: z.array(
      z.object({
        id: z.string(),
        implementation: z.string(),
        plugin: z.string(),
        info: z.record(z.string(), z.unknown()).optional(),
        tags: z.array(z.string()).optional(),
      }),
    ),
  })
  .register(responseSchemas, {
    id: 'PluginList',
    description: 'Loaded Marathon plugins (Pacer loads none).',
  });

export const MessageSchema = z
  .object({ message: z.string() })
  .register(responseSchemas, { id: 'Message' });

export const StoredArtifactSchema = z
  .object({ uri: z.string(), digest: z.string(), size: z.number().int() })
  .register(responseSchemas, {
    id: 'StoredArtifact',
    description: 'Where an uploaded module can be fetched.',
  });

export const ArtifactListSchema = z
  .object({
    artifacts: z.array(
      z.object({
        uri: z.string(),
        digest: z.string(),
        size: z.number().int(),
        createdAt: timestamp,
      }),
    ),
  })
  .register(responseSchemas, { id: 'ArtifactList' });

const AgentResourcesSchema = z.object({
  cpus: z.number(),
  mem: z.number(),
  disk: z.number(),
  ports: z.array(z.string()),
});

/** An agent in maintenance: `draining` while instances remain on it, then `drained`. */
const AgentDrainStateSchema = z.object({
  state: z.enum(['draining', 'drained']),
  since: timestamp,
});

export const AgentDrainSchema = z
  .object({ id: z.string(), drain: AgentDrainStateSchema.nullable() })
  .register(responseSchemas, { id: 'AgentDrain' });

export const AgentListSchema = z
  .object({
    agents: z.array(
      z.object({
        id: z.string(),
        hostname: z.string(),
        state: z.enum(['active', 'unreachable']),
        attributes: z.record(z.string(), z.string()),
        capabilities: z.array(z.string()),
        resources: AgentResourcesSchema,
        free: AgentResourcesSchema,
        /** Parts of `resources` reserved to roles (`--resources cpus(web):2;…`); absent: none. */
        reservations: z
          .array(
            z.object({
              role: z.string(),
              cpus: z.number(),
              mem: z.number(),
              disk: z.number(),
              ports: z.array(z.string()).optional().meta({
                description:
                  'Port ranges reserved to the role (`ports(web):[40000-40010]`), as `begin-end`; absent: none.',
              }),
            }),
          )
          .optional(),
        resourcesByRole: z
          .array(
            z.object({
              role: z.string(),
              total: AgentResourcesSchema,
              used: AgentResourcesSchema,
              free: AgentResourcesSchema,
            }),
          )
          .optional()
          .meta({
            description:
              'Per role, `*` (unreserved) first, then each reservation: what the role holds here, what its tasks use, what is free. Ports show in the pool that holds them: unreserved ones under `*`, reserved ones under their role.',
          }),
        runningTasks: z.array(z.string()),
        registeredAt: timestamp,
        lastHeartbeatAt: timestamp,
        drain: AgentDrainStateSchema.optional().meta({
          description:
            '`draining` while instances remain, `drained` once nothing runs there (the leader then emits `agent_drained_event` on `/v2/events`).',
        }),
      }),
    ),
  })
  .register(responseSchemas, { id: 'AgentList' });

export const LogLineSchema = z
  .object({ stream: z.enum(['stdout', 'stderr']), line: z.string(), timestamp: z.string() })
  .register(responseSchemas, { id: 'LogLine' });

export const LogLinesSchema = z
  .object({
    taskId: z.string(),
    lines: z.array(LogLineSchema),
    fuelUsed: z.number().int().nonnegative().optional().meta({
      description: 'Fuel the task used, once a metered Wasm task has ended.',
    }),
  })
  .register(responseSchemas, { id: 'LogLines' });

export const KilledTasksSchema = z
  .union([TaskListSchema, DeploymentResultSchema])
  .register(responseSchemas, {
    id: 'KilledTasks',
    description: 'Killed tasks, or with `scale=true` the deployment.',
  });

export const KilledTaskSchema = z
  .union([TaskSingleSchema, DeploymentResultSchema])
  .register(responseSchemas, {
    id: 'KilledTask',
    description: 'The killed task, or with `scale=true` the deployment.',
  });

interface GroupInfoShape {
  id: string;
  apps?: unknown[];
  groups?: GroupInfoShape[];
  pods?: unknown[];
  dependencies: string[];
  version: string;
  enforceRole: boolean;
}

export const GroupInfoSchema: z.ZodType<GroupInfoShape> = z
  .object({
    id: z.string(),
    apps: z.array(AppInfoSchema).optional(),
    get groups(): z.ZodOptional<z.ZodArray<z.ZodType<GroupInfoShape>>> {
      return z.array(GroupInfoSchema).optional();
    },
    pods: z.array(z.unknown()).max(0).optional(),
    dependencies: z.array(z.string()),
    version: timestamp,
    enforceRole: z.boolean(),
  })
  .register(responseSchemas, { id: 'GroupInfo', description: 'A group tree with its apps.' });

export const GroupSchema: z.ZodType<GroupInfoShape> = z
  .object({
    id: z.string(),
    apps: z.array(AppDefinitionSchema).optional(),
    get groups(): z.ZodOptional<z.ZodArray<z.ZodType<GroupInfoShape>>> {
      return z.array(GroupSchema).optional();
    },
    pods: z.array(z.unknown()).max(0).optional(),
    dependencies: z.array(z.string()),
    version: timestamp,
    enforceRole: z.boolean(),
  })
  .register(responseSchemas, { id: 'Group', description: 'A group as it was at a version.' });

export const AppInfoArraySchema = z
  .array(AppInfoSchema)
  .register(responseSchemas, { id: 'AppInfoArray' });

export const TimestampArraySchema = z
  .array(timestamp)
  .register(responseSchemas, { id: 'TimestampArray' });

export const DeploymentStepsSchema = z
  .object({ steps: z.array(z.object({ actions: z.array(ActionSchema) })) })
  .register(responseSchemas, {
    id: 'DeploymentSteps',
    description: 'The plan a dry run would deploy.',
  });

export const GroupUpdateResultSchema = z
  .union([DeploymentResultSchema, DeploymentStepsSchema])
  .register(responseSchemas, { id: 'GroupUpdateResult' });

const RejectSummarySchema = z.array(
  z.object({ reason: z.string(), declined: z.number().int(), processed: z.number().int() }),
);

export const QueueSchema = z
  .object({
    queue: z.array(
      z.object({
        app: AppDefinitionSchema,
        count: z.number().int(),
        delay: z.object({ timeLeftSeconds: z.number().int(), overdue: z.boolean() }),
        since: timestamp,
        processedOffersSummary: z.object({
          processedOffersCount: z.number().int(),
          unusedOffersCount: z.number().int(),
          lastUnusedOfferAt: timestamp.optional(),
          lastUsedOfferAt: timestamp.optional(),
          rejectSummaryLastOffers: RejectSummarySchema,
          rejectSummaryLaunchAttempt: RejectSummarySchema,
        }),
        role: z.string(),
      }),
    ),
  })
  .register(responseSchemas, {
    id: 'Queue',
    description: 'Apps with instances waiting for agents.',
  });

export const MetricsSchema = z
  .object({
    version: z.string(),
    gauges: z.record(z.string(), z.object({ value: z.number() })),
    counters: z.record(z.string(), z.object({ count: z.number() })),
    histograms: z.record(z.string(), z.unknown()),
    meters: z.record(z.string(), z.unknown()),
    timers: z.record(z.string(), z.unknown()),
  })
  .register(responseSchemas, { id: 'Metrics' });
