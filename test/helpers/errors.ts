/** Catching the ScimError that framework-free code throws (no app, no database). */
import { ScimError } from '../../src/scim/errors'

/** The ScimError `fn` throws; anything else it throws is rethrown, and not throwing fails with `noError`. */
export function catchScimError(fn: () => unknown, noError = 'expected a ScimError'): ScimError {
  try {
    fn()
  } catch (e) {
    if (e instanceof ScimError) return e
    throw e
  }
  throw new Error(noError)
}
