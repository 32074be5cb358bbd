package org.exportpipeline.harness.executorch;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.exportpipeline.harness.contract.ContractException;
import org.exportpipeline.harness.contract.Manifest;
import org.exportpipeline.harness.Release;

/**
 * What an ExecuTorch program needs (its flatbuffer file identifier, the manifest's
 * pte_file_identifier, e.g. ET12) against what the runtime reads, checked before the runtime opens it.
 *
 * <p>The table: the runtime accepts exactly one identifier, compiled into libexecutorch.so beside its
 * check "Program identifier '%.4s' != expected '%.4s'" (read from the 1.5.0 and 1.5.1 wheels' libraries,
 * byte-identical in both: ET12). A release not in the table is left to the runtime. Thread-safe
 * (static, immutable).
 */
final class ProgramLimits {
  /** Runtime release -> the program identifier it reads. */
  static final Map<Release, String> IDENTIFIER = Map.of(new Release(1, 5), "ET12");

  private ProgramLimits() {}

  /** The refusal for the format's program (file, e.g. model.pte) on this runtime version (e.g. "1.5.0"), or empty. */
  static Optional<String> refusal(Manifest manifest, String format, String file, String version) throws ContractException {
    List<String> need = manifest.need(format, "pte_file_identifier");
    String reads = Release.of(version).map(IDENTIFIER::get).orElse(null);
    if (need.isEmpty() || reads == null || reads.equals(need.get(0))) {
      return Optional.empty();
    }
    return Optional.of(file + " needs ExecuTorch program version " + need.get(0) + "; ExecuTorch " + version + " reads " + reads
        + " only: export with an executorch whose programs this runtime reads, or move the runtime to that release");
  }
}
