package org.exportpipeline.harness;

/**
 * The model takes no call now: it is not open yet, it was closed (a service shutting down), or every
 * call slot stayed busy for the admission wait (overloaded). {@link #reason()} tells which. Immutable,
 * so thread-safe.
 */
public final class ModelUnavailableException extends ModelException {
  /** Why the call was not admitted. */
  public enum Reason { NOT_OPEN, CLOSED, OVERLOADED }

  private final Reason reason;

  public ModelUnavailableException(Reason reason, String message) {
    super(message, null);
    this.reason = reason;
  }

  public Reason reason() {
    return reason;
  }
}
