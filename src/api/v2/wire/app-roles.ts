// An app's `role` and `acceptedResourceRoles` as Marathon 1.9+ checks them: the role is `*` or the
// app's top-level group's name; accepted roles are valid role names, only `*` and the app's role.
import type { RoleSettings, Violation } from '../../../domain/index.js';
import { roleNameErrors, roleOf } from '../../../domain/index.js';

/**
 * Adds Marathon's violations for the app's roles. Messages: `ResourceRole.scala` (role names and
 * `acceptedResourceRoles can only contain * and <role>`); the `role` message follows wix-accord's
 * `in(...)` wording as Marathon prints it (not verified against a running Marathon).
 */
export function checkAppRoles(
  app: { id: string; role?: string; acceptedResourceRoles?: string[] },
  options: { settings: RoleSettings; violations: Violation[] },
): void {
  const { violations } = options;
  const role = roleOf(app);
  const valid = options.settings.validRoles;
  if (!valid.includes(role)) {
    violations.push({
      path: '/role',
      errors: [`got ${role}, expected one of: [${valid.join(', ')}]`],
    });
  }
  const accepted = app.acceptedResourceRoles;
  if (!accepted || accepted.length === 0) return;
  accepted.forEach((name, index) => {
    const errors = roleNameErrors(name);
    if (errors.length > 0) violations.push({ path: `/acceptedResourceRoles(${index})`, errors });
  });
  if (accepted.some((name) => name !== '*' && name !== role)) {
    violations.push({
      path: '/acceptedResourceRoles',
      errors: [`acceptedResourceRoles can only contain * and ${role}`],
    });
  }
}
