/**
 * Job ids: generated here, never taken from a request. An id is `v` + 24 lowercase hex digits (96 random bits); a path
 * segment that does not match {@link JOB_ID_RE} is a 404 before any store or file-system access, so no request value
 * ever reaches a path.
 */
import { randomBytes } from 'node:crypto';

export const JOB_ID_RE = /^v[0-9a-f]{24}$/;

export function newJobId(): string {
  return `v${randomBytes(12).toString('hex')}`;
}

export function isJobId(s: string): boolean {
  return JOB_ID_RE.test(s);
}
