package org.exportpipeline.harness;

/**
 * The caller's inputs are not what the export takes (a name, dtype, shape outside the declared box,
 * inputs disagreeing on a shared dim, a value outside an input's range): refused before any runtime
 * sees them, so the model stays usable. Immutable, so thread-safe.
 */
public final class InvalidInputException extends ModelException {
  public InvalidInputException(String message) {
    super(message, null);
  }
}
