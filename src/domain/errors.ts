// The domain's error family. Each has a code; api/errors.ts maps codes to HTTP (one table).

export const ErrorCode = {
  NOT_FOUND: 'NOT_FOUND',
  CONFLICT: 'CONFLICT',
  APP_LOCKED: 'APP_LOCKED',
  VALIDATION: 'VALIDATION',
  BAD_REQUEST: 'BAD_REQUEST',
  UNAVAILABLE: 'UNAVAILABLE',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** One violation at a path in Marathon's syntax (`/constraints(0)`, `/id`). */
export interface Violation {
  path: string;
  errors: string[];
}

export abstract class DomainError extends Error {
  abstract readonly code: ErrorCode;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class NotFoundError extends DomainError {
  readonly code = ErrorCode.NOT_FOUND;
}

export class ConflictError extends DomainError {
  readonly code = ErrorCode.CONFLICT;
}

export class BadRequestError extends DomainError {
  readonly code = ErrorCode.BAD_REQUEST;
}

export class UnavailableError extends DomainError {
  readonly code = ErrorCode.UNAVAILABLE;
}

/** No or wrong credentials (401, Marathon's message). */
export class UnauthenticatedError extends DomainError {
  readonly code = ErrorCode.UNAUTHENTICATED;
  constructor(message = 'Invalid username or password.') {
    super(message);
  }
}

/** Authenticated, but without the right for this action (403, Marathon's message). */
export class ForbiddenError extends DomainError {
  readonly code = ErrorCode.FORBIDDEN;
  constructor(message = 'Not Authorized to perform this action!') {
    super(message);
  }
}

export class AppLockedError extends DomainError {
  readonly code = ErrorCode.APP_LOCKED;
  constructor(readonly deploymentIds: string[]) {
    super(
      "App is locked by one or more deployments. Override with the option '?force=true'. " +
        `View details at '/v2/deployments/${deploymentIds.join(',')}'.`,
    );
  }
}

export class ValidationError extends DomainError {
  readonly code = ErrorCode.VALIDATION;
  constructor(
    readonly violations: Violation[],
    message = 'Object is not valid',
  ) {
    super(message);
  }
}

/** A validation outcome: validators return this rather than throw. */
export type Result<T> = { ok: true; value: T } | { ok: false; errors: Violation[] };
