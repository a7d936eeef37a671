// The path parameters of the API, one per kind of id, each with Marathon's answer for a value
// that cannot name anything: an unknown app (404) for an id that breaks the PathId pattern, a
// 422 where the id is being created, and a 404 for any value with a control character (a NUL
// byte would otherwise reach Postgres and fail there).
import type { Context } from 'hono';
import {
  NotFoundError,
  ValidationError,
  canonicalPath,
  isValidPathId,
  parseTaskId,
} from '../domain/index.js';
import type { PathParam } from './route.js';
import { unknownApp } from './responses.js';
import { ID_PATTERN_MESSAGE } from './v2/wire/app-normalize.js';

/** What no id of any kind holds: control characters, and lone surrogates (not text). */
// eslint-disable-next-line no-control-regex -- control characters are what it looks for
const UNNAMEABLE = /[\u0000-\u001f\u007f]|\p{Cs}/u;

/** True when `value` may be looked up at all. */
export function isNameable(value: string): boolean {
  return !UNNAMEABLE.test(value);
}

/**
 * A canonical path id that can exist: of Marathon's PathId pattern, whose characters
 * (`[a-z0-9.-/]`) leave no room for an unnameable one.
 */
function isPossibleId(id: string): boolean {
  return isValidPathId(id);
}

const GREEDY = '.+';
const APP_ID_TEXT =
  'App id. It may contain `/` (send it as is or percent-encoded); a leading `/` is optional.';
const GROUP_ID_TEXT = 'Group id; it may contain `/`.';

/** An app that must exist: an id no app can have is Marathon's 404 for an unknown app. */
export const APP_ID: PathParam = {
  description: APP_ID_TEXT,
  match: GREEDY,
  check: (value) => {
    const id = canonicalPath(value);
    return isPossibleId(id) ? undefined : unknownApp(id);
  },
};

/** An app id or `{group}/*` (every app under the group). */
export const APP_ID_OR_GROUP_STAR: PathParam = {
  description: `${APP_ID_TEXT} \`{group}/*\` names every app under the group.`,
  match: GREEDY,
  check: (value) => {
    const star = /^((?:.+\/)|)\*$/.exec(value);
    const id = canonicalPath(star ? (star[1] ?? '') : value);
    return isPossibleId(id) ? undefined : unknownApp(id);
  },
};

/** An app created when absent (`PUT /v2/apps/{id}`): a bad id is the body id's 422. */
export const APP_ID_TO_WRITE: PathParam = {
  description: `${APP_ID_TEXT} Created when absent.`,
  match: GREEDY,
  check: (value) => {
    const id = canonicalPath(value);
    if (id === '/') return new ValidationError([{ path: '/', errors: ['must not be root'] }]);
    return isPossibleId(id)
      ? undefined
      : new ValidationError([{ path: '/id', errors: [ID_PATTERN_MESSAGE] }]);
  },
};

/** A group that must exist. */
export const GROUP_ID: PathParam = {
  description: GROUP_ID_TEXT,
  match: GREEDY,
  check: (value) => {
    const id = canonicalPath(value);
    return isPossibleId(id) ? undefined : new NotFoundError(`Group '${id}' does not exist`);
  },
};

/** The group of `{group}/*`: any nameable prefix (one no app has lists nothing, as Marathon). */
export const GROUP_PREFIX: PathParam = {
  description: GROUP_ID_TEXT,
  match: GREEDY,
  check: (value) =>
    isNameable(value) ? undefined : new NotFoundError(`Group '${value}' does not exist`),
};

/** A group created when absent (`POST`/`PUT /v2/groups/{id}`): a bad id is a 422. */
export const GROUP_ID_TO_WRITE: PathParam = {
  description: `${GROUP_ID_TEXT} Created when absent.`,
  match: GREEDY,
  check: (value) =>
    isPossibleId(canonicalPath(value))
      ? undefined
      : new ValidationError([{ path: '/id', errors: [ID_PATTERN_MESSAGE] }]),
};

/** A task id (`<instanceId>._app.<n>` or a legacy form); anything else is an unknown task. */
export const TASK_ID: PathParam = {
  description: 'Task id, e.g. `app.instance-<uuid>._app.1`.',
  check: (value) =>
    isNameable(value) && parseTaskId(value)
      ? undefined
      : new NotFoundError(`Task '${value}' does not exist`),
};

/** A stored version: an ISO-8601 timestamp (anything else names no version). */
export function versionOf(what: 'App' | 'Group'): PathParam {
  return {
    description: 'A version: the ISO-8601 timestamp of a stored definition.',
    check: (value, c?: Context) => {
      if (isNameable(value) && !Number.isNaN(Date.parse(value))) return undefined;
      const id = canonicalPath(c?.req.param('id') ?? '/');
      return new NotFoundError(`${what} '${id}' does not exist in version ${value}`);
    },
  };
}

/** Any other single-segment name (deployment, agent, token, asset, file): 404 when unnameable. */
export function nameOf(what: string, description?: string): PathParam {
  return {
    ...(description ? { description } : {}),
    check: (value) =>
      isNameable(value) ? undefined : new NotFoundError(`${what} '${value}' does not exist`),
  };
}
