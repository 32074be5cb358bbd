package org.exportpipeline.harness;

/**
 * What a call on a {@link Model} (or a {@link Runner}) can fail with, in three kinds a service maps
 * on its own: {@link InvalidInputException} (the caller sent something the export does not take: a
 * 400), {@link ModelUnavailableException} (closed, or every call slot stayed busy: a 503), and
 * {@link RuntimeFailureException} (the runtime failed on valid input: a 500). The message is one line
 * for people. Immutable, so thread-safe.
 */
public abstract sealed class ModelException extends Exception
    permits InvalidInputException, ModelUnavailableException, RuntimeFailureException {
  ModelException(String message, Throwable cause) {
    super(message, cause);
  }
}
