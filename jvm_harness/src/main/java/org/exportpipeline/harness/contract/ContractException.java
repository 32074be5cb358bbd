package org.exportpipeline.harness.contract;

import java.io.IOException;

/**
 * A model folder that does not hold what its manifest promises, or a manifest that is not one.
 * The message is one line for people: what failed, why, and what to try. Immutable, so thread-safe.
 */
public final class ContractException extends IOException {
  public ContractException(String message) {
    super(message);
  }
}
