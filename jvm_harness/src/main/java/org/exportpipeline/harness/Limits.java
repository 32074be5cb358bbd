package org.exportpipeline.harness;

import java.util.Optional;
import org.exportpipeline.harness.contract.ContractException;
import org.exportpipeline.harness.contract.Manifest;

/**
 * What a runtime can read, held against what an artifact needs (the manifest's needs: a file version, an
 * opset, an instruction set): the template asks it before the runtime opens the file, so an artifact it cannot
 * read is refused in one line rather than failing in native code. An engine names its limits once
 * ({@link Runner#limits}); the tables behind them live in its package. Implementations are immutable and
 * thread-safe.
 */
@FunctionalInterface
public interface Limits {
  /** No limits known: the runtime decides when it opens the file. */
  Limits NONE = (manifest, format, main) -> Optional.empty();

  /** Why this runtime cannot read the format's main file as the manifest describes it, or empty. */
  Optional<String> refusal(Manifest manifest, String format, String main) throws ContractException;
}
