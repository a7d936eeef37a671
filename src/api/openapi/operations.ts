// Every operation of the API as data: path, parameters, request body and answers, named by the
// component schemas of registry.ts. document.ts renders this table as OpenAPI 3.1.
import type { ParameterObject } from 'openapi3-ts/oas31';
import { ACL_OPERATIONS } from './acl-operations.js';

/** One answer: a status with a component schema (JSON) or another media type. */
export interface Answer {
  description: string;
  /** Component schema name of a JSON body. */
  schema?: string;
  /** Media type of a non-JSON body (text, wasm, event stream). */
  media?: { type: string; schema: Record<string, unknown> };
  /** True when the answer carries `Marathon-Deployment-Id` (and `Location` on 201). */
  isDeployment?: boolean;
}

/** One operation of the API. */
export interface Operation {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  path: string;
  operationId: string;
  summary: string;
  tag: string;
  parameters?: ParameterObject[];
  /** Component schema name of a JSON body, or a raw media type. */
  body?: { schema: string; isArray?: boolean } | { media: string };
  answers: Record<string, Answer>;
}

const bool = (name: string, description: string, fallback: boolean): ParameterObject => ({
  name,
  in: 'query',
  description: `${description} Any case of \`true\` is true (\`True\` works). Default ${String(fallback)}.`,
  schema: { type: 'string', default: String(fallback) },
});

const appId: ParameterObject = {
  name: 'id',
  in: 'path',
  required: true,
  description: 'App id. It may contain `/` (send it as is or percent-encoded); a leading `/` is optional.',
  schema: { type: 'string' },
};
const taskId: ParameterObject = { name: 'taskId', in: 'path', required: true, schema: { type: 'string' } };
const force = bool('force', 'Override a running deployment of the same app.', false);
const embed: ParameterObject = {
  name: 'embed',
  in: 'query',
  description: 'Repeatable: `apps.tasks`, `apps.counts`, `apps.deployments`, `apps.readiness`, `apps.lastTaskFailure`, `apps.taskStats` (prefixes `app.`/`apps.`/`group.apps.` or none).',
  schema: { type: 'array', items: { type: 'string' } },
  style: 'form',
  explode: true,
};
const scale = bool('scale', 'Lower `instances` by the number of killed tasks.', false);
const wipe = bool('wipe', 'Remove the instances instead of relaunching them.', false);

const error = (description: string): Answer => ({ description, schema: 'Error' });
const deployment = (description = 'The deployment that was started.'): Answer => ({
  description,
  schema: 'DeploymentResult',
  isDeployment: true,
});
const invalid = {
  '400': error('Malformed JSON (`details` is the parser message) or wrong JSON types.'),
  '422': error('The definition is not valid (`details[].path` in Marathon syntax).'),
};
const locked = { '409': error('The app is locked by a running deployment (`deployments` lists them).') };
const missing = { '404': error('No such app.') };
const groupId: ParameterObject = {
  name: 'id',
  in: 'path',
  required: true,
  description: 'Group id; it may contain `/`.',
  schema: { type: 'string' },
};
const groupEmbed: ParameterObject = {
  name: 'embed',
  in: 'query',
  description: 'Repeatable: `group.groups`, `group.apps`, `group.pods` (default all three), `group.apps.tasks`, `group.apps.lastTaskFailure`, …',
  schema: { type: 'array', items: { type: 'string' } },
  style: 'form',
  explode: true,
};
const noGroup = { '404': error('No such group.') };

/** The operations, in the order the document lists them. */
export const OPERATIONS: Operation[] = [
  {
    method: 'get',
    path: '/v2/apps',
    operationId: 'listApps',
    summary: 'List apps',
    tag: 'apps',
    parameters: [
      { name: 'cmd', in: 'query', description: 'Case-insensitive substring of `cmd`.', schema: { type: 'string' } },
      { name: 'id', in: 'query', description: 'Case-insensitive substring of the id.', schema: { type: 'string' } },
      { name: 'label', in: 'query', description: 'Label selector: `k`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, comma = AND.', schema: { type: 'string' } },
      embed,
    ],
    answers: { '200': { description: 'The apps.', schema: 'AppList' }, '400': error('Bad label selector.') },
  },
  {
    method: 'post',
    path: '/v2/apps',
    operationId: 'createApp',
    summary: 'Create an app',
    tag: 'apps',
    parameters: [force],
    body: { schema: 'App' },
    answers: {
      '201': { description: 'Created; `Location` names the app.', schema: 'AppInfo', isDeployment: true },
      ...invalid,
      '409': error('An app with this id exists, or a deployment locks it.'),
    },
  },
  {
    method: 'put',
    path: '/v2/apps',
    operationId: 'updateApps',
    summary: 'Create or update several apps',
    tag: 'apps',
    parameters: [force, bool('partialUpdate', 'Merge into the current definitions.', true)],
    body: { schema: 'App', isArray: true },
    answers: { '200': deployment(), ...invalid, ...locked },
  },
  {
    method: 'patch',
    path: '/v2/apps',
    operationId: 'patchApps',
    summary: 'Partially update several existing apps',
    tag: 'apps',
    parameters: [force],
    body: { schema: 'App', isArray: true },
    answers: { '200': deployment(), ...invalid, ...missing, ...locked },
  },
  {
    method: 'get',
    path: '/v2/apps/{id}',
    operationId: 'getApp',
    summary: 'One app with its tasks, counts, deployments and last failure',
    tag: 'apps',
    parameters: [appId, embed],
    answers: { '200': { description: 'The app.', schema: 'AppSingle' }, ...missing },
  },
  ...['/v2/apps/*', '/v2/apps/{groupId}/*'].map(
    (path): Operation => ({
      method: 'get',
      path,
      operationId: path === '/v2/apps/*' ? 'listAllAppsStar' : 'listGroupAppsStar',
      summary: 'Every app under a group, as `{"*": [AppInfo…]}`',
      tag: 'apps',
      parameters: path === '/v2/apps/*' ? [embed] : [{ ...groupId, name: 'groupId' }, embed],
      answers: { '200': { description: 'The apps.', schema: 'GroupAppList' } },
    }),
  ),
  {
    method: 'put',
    path: '/v2/apps/{id}',
    operationId: 'replaceApp',
    summary: 'Update or create an app; a body of only `{"version"}` rolls back to it',
    tag: 'apps',
    parameters: [appId, force, bool('partialUpdate', 'Merge into the current definition.', true)],
    body: { schema: 'App' },
    answers: {
      '200': deployment('Updated.'),
      '201': deployment('Created; `Location` names the app.'),
      ...invalid,
      '404': error('Unknown version in a rollback.'),
      ...locked,
    },
  },
  {
    method: 'patch',
    path: '/v2/apps/{id}',
    operationId: 'patchApp',
    summary: 'Partially update an existing app',
    tag: 'apps',
    parameters: [appId, force],
    body: { schema: 'App' },
    answers: { '200': deployment(), ...invalid, ...missing, ...locked },
  },
  {
    method: 'delete',
    path: '/v2/apps/{id}',
    operationId: 'deleteApp',
    summary: 'Destroy an app and kill its tasks',
    tag: 'apps',
    parameters: [appId, bool('force', 'Override a running deployment.', true)],
    answers: { '200': deployment(), ...missing, ...locked },
  },
  {
    method: 'post',
    path: '/v2/apps/{id}/restart',
    operationId: 'restartApp',
    summary: 'Rolling restart of every task',
    tag: 'apps',
    parameters: [appId, force],
    answers: { '200': deployment(), ...missing, ...locked },
  },
  {
    method: 'get',
    path: '/v2/apps/{id}/tasks',
    operationId: 'listAppTasks',
    summary: 'Tasks of an app (`{group}/*` for every app under a group)',
    tag: 'apps',
    parameters: [appId],
    answers: { '200': { description: 'The tasks.', schema: 'TaskList' }, ...missing },
  },
  {
    method: 'delete',
    path: '/v2/apps/{id}/tasks',
    operationId: 'killAppTasks',
    summary: 'Kill tasks of an app',
    tag: 'apps',
    parameters: [
      appId,
      { name: 'host', in: 'query', description: 'Only tasks on this host (`*` = all).', schema: { type: 'string' } },
      scale,
      wipe,
      force,
    ],
    answers: {
      '200': { description: '`{"tasks"}` killed, or a DeploymentResult with `scale=true`.', schema: 'KilledTasks' },
      '400': error('`scale` and `wipe` together.'),
      ...missing,
    },
  },
  {
    method: 'delete',
    path: '/v2/apps/{id}/tasks/{taskId}',
    operationId: 'killAppTask',
    summary: 'Kill one task of an app',
    tag: 'apps',
    parameters: [appId, taskId, scale, wipe, force],
    answers: {
      '200': { description: '`{"task"}`, or a DeploymentResult with `scale=true`.', schema: 'KilledTask' },
      '400': error('`scale` and `wipe` together.'),
      '404': error('No such app or task.'),
    },
  },
  {
    method: 'get',
    path: '/v2/apps/{id}/versions',
    operationId: 'listAppVersions',
    summary: 'Stored versions of an app, newest first',
    tag: 'apps',
    parameters: [appId],
    answers: { '200': { description: 'The versions.', schema: 'VersionList' }, ...missing },
  },
  {
    method: 'get',
    path: '/v2/apps/{id}/versions/{version}',
    operationId: 'getAppVersion',
    summary: 'The app definition at one version',
    tag: 'apps',
    parameters: [appId, { name: 'version', in: 'path', required: true, schema: { type: 'string' } }],
    answers: { '200': { description: 'The definition.', schema: 'AppDefinition' }, '404': error('No such app or version.') },
  },
  ...['/v2/groups', '/v2/groups/{id}'].flatMap((path): Operation[] => {
    const isRoot = path === '/v2/groups';
    const params = isRoot ? [] : [groupId];
    const suffix = isRoot ? 'Root' : '';
    return [
      {
        method: 'get',
        path,
        operationId: `getGroup${suffix}`,
        summary: 'A group tree with its apps',
        tag: 'groups',
        parameters: [...params, groupEmbed],
        answers: { '200': { description: 'The group.', schema: 'GroupInfo' }, ...noGroup },
      },
      {
        method: 'post',
        path,
        operationId: `createGroup${suffix}`,
        summary: 'Create a group with its apps',
        tag: 'groups',
        parameters: [...params, force],
        body: { schema: 'GroupUpdate' },
        answers: {
          '201': deployment('Created; `Location` names the group.'),
          ...invalid,
          '409': error('The group or an app with its path exists.'),
        },
      },
      {
        method: 'put',
        path,
        operationId: `updateGroup${suffix}`,
        summary: 'Update or create a group; `{"version"}` rolls back, `{"scaleBy"}` scales',
        tag: 'groups',
        parameters: [...params, force, bool('dryRun', 'Only answer the plan (`{"steps"}`).', false)],
        body: { schema: 'GroupUpdate' },
        answers: {
          '200': { description: 'The deployment, or with `dryRun` the steps.', schema: 'GroupUpdateResult', isDeployment: true },
          ...invalid,
          ...noGroup,
          ...locked,
        },
      },
      {
        method: 'delete',
        path,
        operationId: `deleteGroup${suffix}`,
        summary: 'Remove a group and everything under it',
        tag: 'groups',
        parameters: [...params, force],
        answers: { '200': deployment(), ...noGroup, ...locked },
      },
    ];
  }),
  {
    method: 'patch',
    path: '/v2/groups/{id}',
    operationId: 'patchGroup',
    summary: 'Change `enforceRole` of a top-level group (accepted; no effect in Pacer)',
    tag: 'groups',
    parameters: [groupId],
    body: { schema: 'GroupPartialUpdate' },
    answers: { '200': { description: 'Done (empty body, as Marathon).' }, ...invalid, ...noGroup },
  },
  {
    method: 'get',
    path: '/v2/groups/{id}/apps',
    operationId: 'listGroupApps',
    summary: 'The apps directly in a group',
    tag: 'groups',
    parameters: [groupId, groupEmbed],
    answers: { '200': { description: 'The apps.', schema: 'AppInfoArray' }, ...noGroup },
  },
  {
    method: 'get',
    path: '/v2/groups/versions',
    operationId: 'listRootGroupVersions',
    summary: 'Versions of the root group',
    tag: 'groups',
    answers: { '200': { description: 'The versions, newest first.', schema: 'TimestampArray' } },
  },
  {
    method: 'get',
    path: '/v2/groups/{id}/versions',
    operationId: 'listGroupVersions',
    summary: 'Versions of a group (those of the apps under it)',
    tag: 'groups',
    parameters: [groupId],
    answers: { '200': { description: 'The versions, newest first.', schema: 'TimestampArray' }, ...noGroup },
  },
  {
    method: 'get',
    path: '/v2/groups/{id}/versions/{version}',
    operationId: 'getGroupVersion',
    summary: 'A group as it was at a version',
    tag: 'groups',
    parameters: [groupId, { name: 'version', in: 'path', required: true, schema: { type: 'string' } }],
    answers: { '200': { description: 'The group.', schema: 'Group' }, ...noGroup },
  },
  {
    method: 'get',
    path: '/v2/tasks',
    operationId: 'listTasks',
    summary: 'Every task',
    tag: 'tasks',
    parameters: [
      {
        name: 'status',
        in: 'query',
        description: '`running` or `staging` (repeatable); other values are ignored.',
        schema: { type: 'array', items: { type: 'string' } },
        style: 'form',
        explode: true,
      },
    ],
    answers: { '200': { description: 'The tasks.', schema: 'TaskList' } },
  },
  {
    method: 'post',
    path: '/v2/tasks/delete',
    operationId: 'killTasks',
    summary: 'Kill tasks of any apps',
    tag: 'tasks',
    parameters: [scale, wipe, force],
    body: { schema: 'DeleteTasks' },
    answers: {
      '200': { description: '`{"tasks"}` killed, or a DeploymentResult with `scale=true`.', schema: 'KilledTasks' },
      '400': error('A malformed task id, or `scale` with `wipe`.'),
    },
  },
  {
    method: 'get',
    path: '/v2/tasks/{taskId}/logs',
    operationId: 'getTaskLogs',
    summary: 'Last lines a task wrote; `follow=true` streams them (server-sent events `log`)',
    tag: 'pacer',
    parameters: [
      taskId,
      { name: 'stream', in: 'query', schema: { type: 'string', enum: ['stdout', 'stderr'] } },
      { name: 'tail', in: 'query', schema: { type: 'integer', minimum: 0, default: 100 } },
      bool('follow', 'Keep the connection open and stream new lines as server-sent events.', false),
    ],
    answers: {
      '200': {
        description: 'The lines (JSON), or an event stream with `follow=true`.',
        schema: 'LogLines',
        media: { type: 'text/event-stream', schema: { type: 'string' } },
      },
      '400': error('Bad `stream` or `tail`.'),
      '404': error('No such task.'),
      '429': error('Too many open log follows, in total or of this principal.'),
    },
  },
  {
    method: 'get',
    path: '/v2/deployments',
    operationId: 'listDeployments',
    summary: 'Running deployments',
    tag: 'deployments',
    answers: { '200': { description: 'The deployments.', schema: 'DeploymentList' } },
  },
  {
    method: 'delete',
    path: '/v2/deployments/{deploymentId}',
    operationId: 'cancelDeployment',
    summary: 'Cancel a deployment (and roll it back unless `force=true`)',
    tag: 'deployments',
    parameters: [
      { name: 'deploymentId', in: 'path', required: true, schema: { type: 'string' } },
      bool('force', 'Only stop it, without a rollback (202, no body).', false),
    ],
    answers: {
      '200': deployment('The rollback deployment.'),
      '202': { description: 'Stopped without rollback.' },
      '404': error('No such deployment.'),
    },
  },
  {
    method: 'get',
    path: '/v2/info',
    operationId: 'getInfo',
    summary: 'Build and configuration facts',
    tag: 'info',
    answers: { '200': { description: 'The facts.', schema: 'Info' } },
  },
  {
    method: 'get',
    path: '/v2/leader',
    operationId: 'getLeader',
    summary: 'The current leader',
    tag: 'info',
    answers: { '200': { description: 'The leader.', schema: 'Leader' }, '404': error('There is no leader.') },
  },
  {
    method: 'get',
    path: '/ping',
    operationId: 'ping',
    summary: 'Liveness',
    tag: 'info',
    answers: { '200': { description: '`pong`', media: { type: 'text/plain', schema: { type: 'string' } } } },
  },
  {
    method: 'post',
    path: '/v2/artifacts',
    operationId: 'uploadArtifact',
    summary: 'Store a Wasm module by its sha256',
    tag: 'pacer',
    body: { media: 'application/wasm' },
    answers: {
      '201': { description: 'Stored.', schema: 'StoredArtifact' },
      '400': error('Empty body.'),
      '403': error('The caller may create apps nowhere.'),
      '413': error("Larger than the upload limit, or past the uploader's quota."),
    },
  },
  {
    method: 'delete',
    path: '/v2/artifacts/{digest}',
    operationId: 'deleteArtifact',
    summary: 'Delete an artifact (its uploader or an admin)',
    tag: 'pacer',
    parameters: [
      { name: 'digest', in: 'path', required: true, schema: { type: 'string', pattern: '^sha256:[0-9a-f]{64}$' } },
    ],
    answers: {
      '204': { description: 'Deleted.' },
      '403': error('Neither the uploader nor an admin.'),
      '404': error('No such artifact.'),
    },
  },
  {
    method: 'get',
    path: '/v2/artifacts',
    operationId: 'listArtifacts',
    summary: 'Stored artifacts',
    tag: 'pacer',
    answers: { '200': { description: 'The artifacts.', schema: 'ArtifactList' } },
  },
  {
    method: 'get',
    path: '/v2/artifacts/{digest}',
    operationId: 'getArtifact',
    summary: 'The bytes of an artifact (`sha256:<hex>`); `/{digest}/{name}` serves the same bytes',
    tag: 'pacer',
    parameters: [
      { name: 'digest', in: 'path', required: true, schema: { type: 'string', pattern: '^sha256:[0-9a-f]{64}$' } },
    ],
    answers: {
      '200': { description: 'The module.', media: { type: 'application/wasm', schema: { type: 'string', contentMediaType: 'application/wasm' } } },
      '404': error('No such artifact.'),
    },
  },
  {
    method: 'get',
    path: '/v2/artifacts/{digest}/{name}',
    operationId: 'getNamedArtifact',
    summary: 'The bytes of an artifact; `name` only names the file in the sandbox',
    tag: 'pacer',
    parameters: [
      { name: 'digest', in: 'path', required: true, schema: { type: 'string', pattern: '^sha256:[0-9a-f]{64}$' } },
      { name: 'name', in: 'path', required: true, schema: { type: 'string' } },
    ],
    answers: {
      '200': { description: 'The module.', media: { type: 'application/wasm', schema: { type: 'string', contentMediaType: 'application/wasm' } } },
      '404': error('No such artifact.'),
    },
  },
  {
    method: 'put',
    path: '/v2/secrets/{id}',
    operationId: 'putSecret',
    summary: 'Write a secret value (sealed at rest; no route ever answers it)',
    tag: 'pacer',
    parameters: [{ name: 'id', in: 'path', required: true, description: 'The secret path, e.g. `team-a/db-password` (may contain `/`); `/` + path is the id grants apply to.', schema: { type: 'string' } }],
    body: { schema: 'SecretWrite' },
    answers: {
      '200': { description: 'Replaced: the new version.', schema: 'SecretVersion' },
      '201': { description: 'Created: version 1.', schema: 'SecretVersion' },
      ...invalid,
      '403': error('No `create` (new) or `update` (existing) right on the path.'),
      '503': error('This master has no secrets key (`PACER_SECRETS_KEY_FILE`).'),
    },
  },
  {
    method: 'get',
    path: '/v2/secrets',
    operationId: 'listSecrets',
    summary: 'The secrets the caller may view: names and versions, never values',
    tag: 'pacer',
    answers: { '200': { description: 'The secrets.', schema: 'SecretList' } },
  },
  {
    method: 'delete',
    path: '/v2/secrets/{id}',
    operationId: 'deleteSecret',
    summary: 'Delete a secret',
    tag: 'pacer',
    parameters: [{ name: 'id', in: 'path', required: true, description: 'The secret path (may contain `/`).', schema: { type: 'string' } }],
    answers: {
      '204': { description: 'Deleted.' },
      '403': error('No `delete` right on the path.'),
      '404': error('No such secret.'),
      '422': error('Not a valid secret path.'),
    },
  },
  {
    method: 'get',
    path: '/v2/agents',
    operationId: 'listAgents',
    summary: 'Agents, their resources, attributes, heartbeats and tasks',
    tag: 'pacer',
    answers: { '200': { description: 'The agents.', schema: 'AgentList' } },
  },
  {
    method: 'delete',
    path: '/v2/agents/{agentId}',
    operationId: 'revokeAgent',
    summary: 'Revoke an agent: its Redis user is deleted at once, its tasks become unreachable (admin)',
    tag: 'pacer',
    parameters: [{ name: 'agentId', in: 'path', required: true, schema: { type: 'string' } }],
    answers: {
      '200': { description: 'Revoked.', media: { type: 'application/json', schema: { type: 'object', properties: { id: { type: 'string' }, revoked: { type: 'boolean' } } } } },
      '404': error('No such agent.'),
    },
  },
  {
    method: 'post',
    path: '/v2/acl/agent-tokens',
    operationId: 'createAgentJoinToken',
    summary: 'A one-time join token for one agent, expiring (admin)',
    tag: 'pacer',
    body: { media: 'application/json' },
    answers: {
      '201': { description: 'The token, shown once.', media: { type: 'application/json', schema: { type: 'object', required: ['token'], properties: { token: { type: 'string' }, hostname: { type: 'string' }, expiresAt: { type: 'string' } } } } },
      '422': error('Invalid hostname.'),
    },
  },
  {
    method: 'post',
    path: '/v2/acl/agent-join',
    operationId: 'joinAgent',
    summary: "An agent exchanges its join token (the request's only credential) for its id and Redis user",
    tag: 'pacer',
    body: { media: 'application/json' },
    answers: {
      '200': { description: 'The agent id and its Redis credentials, shown once.', media: { type: 'application/json', schema: { type: 'object', properties: { agentId: { type: 'string' }, hostname: { type: 'string' }, redisUsername: { type: 'string' }, redisPassword: { type: 'string' } } } } },
      '401': error('Unknown, used or expired token.'),
    },
  },
  {
    method: 'get',
    path: '/openapi.json',
    operationId: 'getOpenApiDocument',
    summary: 'This document',
    tag: 'pacer',
    answers: { '200': { description: 'The OpenAPI 3.1 document.', media: { type: 'application/json', schema: { type: 'object' } } } },
  },
  {
    method: 'get',
    path: '/docs',
    operationId: 'getDocsPage',
    summary: 'A browsable rendering of this document',
    tag: 'pacer',
    answers: { '200': { description: 'The page.', media: { type: 'text/html', schema: { type: 'string' } } } },
  },
  {
    method: 'get',
    path: '/docs/{asset}',
    operationId: 'getDocsAsset',
    summary: 'Scripts and styles of the docs page',
    tag: 'pacer',
    parameters: [{ name: 'asset', in: 'path', required: true, schema: { type: 'string' } }],
    answers: {
      '200': { description: 'The asset.', media: { type: 'text/plain', schema: { type: 'string' } } },
      '404': error('No such asset.'),
    },
  },
  {
    method: 'get',
    path: '/v2/queue',
    operationId: 'getQueue',
    summary: 'Instances waiting for agents, their backoff delay and why agents refused them',
    tag: 'queue',
    answers: { '200': { description: 'The queue.', schema: 'Queue' } },
  },
  {
    method: 'delete',
    path: '/v2/queue/{id}/delay',
    operationId: 'resetQueueDelay',
    summary: 'Reset the launch backoff of an app',
    tag: 'queue',
    parameters: [appId],
    answers: { '204': { description: 'Reset.' }, '404': error('The app is not in the queue.') },
  },
  {
    method: 'get',
    path: '/v2/events',
    operationId: 'streamEvents',
    summary: 'Server-sent events (`Accept: text/event-stream`); `Last-Event-ID` resumes',
    tag: 'events',
    parameters: [
      {
        name: 'event_type',
        in: 'query',
        description: 'Only these event types (repeatable).',
        schema: { type: 'array', items: { type: 'string' } },
        style: 'form',
        explode: true,
      },
      { name: 'Last-Event-ID', in: 'header', schema: { type: 'string', pattern: '^[0-9]+$' } },
    ],
    answers: {
      '200': {
        description: 'Frames `id:`, `event: <eventType>`, `data: <one-line JSON>`; comments keep the connection alive.',
        media: { type: 'text/event-stream', schema: { type: 'string' } },
      },
      '307': { description: 'This master follows; `Location` is the stream at the leader.' },
      '405': error('The request does not accept `text/event-stream`.'),
      '429': error('Too many open event streams, in total or of this principal.'),
    },
  },
  {
    method: 'delete',
    path: '/v2/leader',
    operationId: 'abdicate',
    summary: 'Give up leadership',
    tag: 'info',
    answers: {
      '200': { description: '`{"message":"Leadership abdicated"}`', schema: 'Message' },
      '503': error('This master runs without leader election.'),
    },
  },
  {
    method: 'get',
    path: '/metrics',
    operationId: 'getMetrics',
    summary: 'Metrics as JSON',
    tag: 'info',
    answers: { '200': { description: 'Gauges and counters.', schema: 'Metrics' } },
  },
  {
    method: 'get',
    path: '/metrics/prometheus',
    operationId: 'getPrometheusMetrics',
    summary: 'Metrics in the Prometheus text format',
    tag: 'info',
    answers: { '200': { description: 'The metrics.', media: { type: 'text/plain', schema: { type: 'string' } } } },
  },
  ...(['get', 'post'] as const).map(
    (method): Operation => ({
      method,
      path: '/v2/pods',
      operationId: `${method}Pods`,
      summary: 'Pods are not supported: always 404 with a message',
      tag: 'pods',
      answers: { '404': error('Pods are not supported by Pacer.') },
    }),
  ),
  ...(['get', 'put', 'delete'] as const).map(
    (method): Operation => ({
      method,
      path: '/v2/pods/{id}',
      operationId: `${method}Pod`,
      summary: 'Pods are not supported: always 404 with a message',
      tag: 'pods',
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
      answers: { '404': error('Pods are not supported by Pacer.') },
    }),
  ),
  ...ACL_OPERATIONS,
];
