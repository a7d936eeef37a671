// Zod schemas of task request bodies (`POST /v2/tasks/delete`).
import { z } from 'zod';
import { requestSchemas } from '../../openapi/registry.js';

/** Body of `POST /v2/tasks/delete`. */
export const DeleteTasksSchema = z
  .object({ ids: z.array(z.string()) })
  .register(requestSchemas, { id: 'DeleteTasks', description: 'Ids of the tasks to kill.' });
