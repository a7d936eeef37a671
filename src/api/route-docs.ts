// Building blocks of route declarations shared by several routers: query flags, error and
// deployment answers, `embed` (the document renders them; route.ts declares with them).
import type { ParameterObject } from 'openapi3-ts/oas31';
import type { Answer } from './route.js';

/** A boolean query flag, as Marathon reads them (any case of `true`). */
export const boolQuery = (
  name: string,
  description: string,
  fallback: boolean,
): ParameterObject => ({
  name,
  in: 'query',
  description: `${description} Any case of \`true\` is true (\`True\` works). Default ${String(fallback)}.`,
  schema: { type: 'string', default: String(fallback) },
});

/** A string query parameter. */
export const textQuery = (name: string, description: string): ParameterObject => ({
  name,
  in: 'query',
  description,
  schema: { type: 'string' },
});

/** A repeatable query parameter (`?embed=a&embed=b`). */
export const listQuery = (name: string, description: string): ParameterObject => ({
  name,
  in: 'query',
  description,
  schema: { type: 'array', items: { type: 'string' } },
  style: 'form',
  explode: true,
});

export const FORCE = boolQuery('force', 'Override a running deployment of the same app.', false);
export const SCALE = boolQuery('scale', 'Lower `instances` by the number of killed tasks.', false);
export const WIPE = boolQuery('wipe', 'Remove the instances instead of relaunching them.', false);
export const EMBED = listQuery(
  'embed',
  'Repeatable: `apps.tasks`, `apps.counts`, `apps.deployments`, `apps.readiness`, `apps.lastTaskFailure`, `apps.taskStats` (prefixes `app.`/`apps.`/`group.apps.` or none).',
);
export const GROUP_EMBED = listQuery(
  'embed',
  'Repeatable: `group.groups`, `group.apps`, `group.pods` (default all three), `group.apps.tasks`, `group.apps.lastTaskFailure`, …',
);

/** An error answer in Marathon's shape. */
export const error = (description: string): Answer => ({ description, schema: 'Error' });

/** A DeploymentResult with `Marathon-Deployment-Id`. */
export const deployment = (description = 'The deployment that was started.'): Answer => ({
  description,
  schema: 'DeploymentResult',
  isDeployment: true,
});

/** A JSON answer of a component schema. */
export const json = (description: string, schema: string): Answer => ({ description, schema });

/** A body of another media type. */
export const media = (
  description: string,
  type: string,
  schema: Record<string, unknown> = { type: 'string' },
): Answer => ({
  description,
  media: { type, schema },
});

export const INVALID = {
  '400': error('Malformed JSON (`details` is the parser message) or wrong JSON types.'),
  '422': error('The definition is not valid (`details[].path` in Marathon syntax).'),
};
export const LOCKED = {
  '409': error('The app is locked by a running deployment (`deployments` lists them).'),
};
export const NO_APP = { '404': error('No such app.') };
export const NO_GROUP = { '404': error('No such group.') };
