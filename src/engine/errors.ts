/** Errors a policy may meet whose message is written for users. */

/**
 * An error whose message was written for the user and quotes no value (the cluster cannot be read
 * now). Its message is shown when a policy fails with it; any other error shows only its type.
 */
export class ExplainedError extends Error {
  override name = 'ExplainedError';
}
