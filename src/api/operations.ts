// Every operation of the API, router by router: the declarations the routes are mounted on
// (route.ts `on`) and the OpenAPI document is generated from (openapi/document.ts).
import { METRICS_ROUTES } from './metrics.js';
import { DOCS_ROUTES } from './openapi/routes.js';
import type { RouteSpec } from './route.js';
import { UI_ROUTES } from './ui-routes.js';
import { ACL_AGENTS_ROUTES } from './v2/acl-agents.js';
import { ACL_TOKENS_ROUTES } from './v2/acl-tokens.js';
import { AGENTS_ROUTES } from './v2/agents.js';
import { APP_TASKS_ROUTES } from './v2/app-tasks.js';
import { APP_VERSIONS_ROUTES } from './v2/app-versions.js';
import { APPS_ROUTES } from './v2/apps.js';
import { ARTIFACTS_ROUTES } from './v2/artifacts.js';
import { DEPLOYMENTS_ROUTES } from './v2/deployments.js';
import { EVENTS_ROUTES } from './v2/events.js';
import { GROUPS_ROUTES } from './v2/groups.js';
import { INFO_ROUTES } from './v2/info.js';
import { LOGS_ROUTES } from './v2/logs.js';
import { PODS_ROUTES } from './v2/pods.js';
import { QUEUE_ROUTES } from './v2/queue.js';
import { ROLES_ROUTES } from './v2/roles.js';
import { SECRETS_ROUTES } from './v2/secrets.js';
import { TASKS_ROUTES } from './v2/tasks.js';

/** Every router's declarations. */
const ROUTERS: Record<string, RouteSpec>[] = [
  APPS_ROUTES,
  APP_TASKS_ROUTES,
  APP_VERSIONS_ROUTES,
  GROUPS_ROUTES,
  TASKS_ROUTES,
  LOGS_ROUTES,
  DEPLOYMENTS_ROUTES,
  QUEUE_ROUTES,
  EVENTS_ROUTES,
  INFO_ROUTES,
  METRICS_ROUTES,
  PODS_ROUTES,
  ARTIFACTS_ROUTES,
  SECRETS_ROUTES,
  ROLES_ROUTES,
  AGENTS_ROUTES,
  ACL_AGENTS_ROUTES,
  ACL_TOKENS_ROUTES,
  DOCS_ROUTES,
  UI_ROUTES,
];

/** The operations, in the order the document lists them (Marathon's resources first). */
export const OPERATIONS: readonly RouteSpec[] = ROUTERS.flatMap((routes) => Object.values(routes));
