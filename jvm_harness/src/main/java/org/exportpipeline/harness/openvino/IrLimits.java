package org.exportpipeline.harness.openvino;

import java.util.List;
import java.util.Optional;
import org.exportpipeline.harness.contract.ContractException;
import org.exportpipeline.harness.contract.Manifest;
import org.exportpipeline.harness.Release;

/**
 * What an OpenVINO IR needs (the xml root's version, the manifest's openvino_ir_version) against what
 * the runtime reads, checked before ov_core_read_model.
 *
 * <p>The limit: IR v11 is the newest IR (since 2022.1). Measured through this runner on 2024.6.0,
 * 2025.4.1 and 2026.4.1: IR 11 reads, and the same file marked 12 fails with "Unable to read the
 * model ... Available frontends: ..." after a source-location trail. The served releases 2024
 * through 2026 read up to 11; outside them the runtime decides. Thread-safe (static, immutable).
 */
final class IrLimits {
  static final Release FIRST = new Release(2024, 0);
  static final Release LAST = new Release(2026, 99);
  static final long MAX_IR_VERSION = 11;

  private IrLimits() {}

  /** The refusal for the format's IR (file, e.g. model.xml) on this runtime version (e.g. "2026.4.1-20426"), or empty. */
  static Optional<String> refusal(Manifest manifest, String format, String file, String version) throws ContractException {
    List<String> need = manifest.need(format, "openvino_ir_version");
    Optional<Release> release = Release.of(version);
    if (need.isEmpty() || release.isEmpty() || !release.get().within(FIRST, LAST) || Long.parseLong(need.get(0)) <= MAX_IR_VERSION) {
      return Optional.empty();
    }
    return Optional.of(file + " needs OpenVINO IR version " + need.get(0) + "; OpenVINO " + version + " reads up to IR "
        + MAX_IR_VERSION + ": convert with an OpenVINO no newer than the service's, or upgrade OpenVINO");
  }
}
