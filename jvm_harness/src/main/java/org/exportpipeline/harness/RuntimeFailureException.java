package org.exportpipeline.harness;

/**
 * The runtime failed on inputs the contract accepts, or could not open the artifact. The message is
 * "RUNTIME: " and the runtime's decisive line (not its source location nor a whole traceback); the
 * runtime's own exception is the cause, with all of its text. Immutable, so thread-safe.
 */
public final class RuntimeFailureException extends ModelException {
  private final String runtime;

  public RuntimeFailureException(String runtime, String message, Throwable cause) {
    super(runtime + ": " + message, cause);
    this.runtime = runtime;
  }

  /** The runtime that failed, as {@link Runner#runtime()} names it. */
  public String runtime() {
    return runtime;
  }
}
