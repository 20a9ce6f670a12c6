import { randomBytes } from "node:crypto";

/**
 * A new operation id: 128 random bits, base64url (22 characters of [A-Za-z0-9_-]). Opaque, URL-safe in a
 * single path segment, unguessable, and needing no coordination between instances.
 */
export function newOperationId(): string {
  return randomBytes(16).toString("base64url");
}

/** The characters an operation id may contain: what `newOperationId` makes, and what stays safe unencoded in a URL. */
export const OPERATION_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;
