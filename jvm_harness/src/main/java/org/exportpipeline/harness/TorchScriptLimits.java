package org.exportpipeline.harness;

import java.util.List;
import java.util.Optional;
import org.exportpipeline.harness.contract.ContractException;
import org.exportpipeline.harness.contract.Manifest;

/**
 * What a TorchScript archive needs (its file-format version, the manifest's
 * torchscript_file_version) against what a libtorch reads, checked before libtorch opens the file:
 * both TorchScript engines (JavaCPP, DJL) run libtorch, so the limit lives here once.
 *
 * <p>The limit: caffe2/serialize/versions.h's kMaxSupportedFileFormatVersion is 0xA from torch 1.12
 * (version 10, aten::gelu's approximate kwarg, 2022-02) through 2.13 (the header of the pinned
 * torch); libtorch itself refuses a newer archive ("Attempted to read a PyTorch file with version
 * 11, but the maximum supported version for reading is 10", measured on JavaCPP's 2.13.0 and 2.10.0
 * and DJL's 2.7.1 and 2.1.1). Outside that range the limit is unknown and libtorch decides.
 * Thread-safe (static, immutable).
 */
public final class TorchScriptLimits {
  static final Release FIRST = new Release(1, 12);
  static final Release LAST = new Release(2, 13);
  static final long MAX_FILE_VERSION = 10;

  private TorchScriptLimits() {}

  /** These limits on a libtorch version (e.g. 2.13.0), as a TorchScript runner names them. */
  public static Limits on(String libtorch) {
    return (manifest, format, main) -> refusal(manifest, format, main, libtorch);
  }

  /** The refusal for the format's archive (file, e.g. model.pt) on this libtorch version (e.g. 2.13.0), or empty. */
  public static Optional<String> refusal(Manifest manifest, String format, String file, String libtorch) throws ContractException {
    List<String> need = manifest.need(format, "torchscript_file_version");
    Optional<Release> release = Release.of(libtorch);
    if (need.isEmpty() || release.isEmpty() || !release.get().within(FIRST, LAST) || Long.parseLong(need.get(0)) <= MAX_FILE_VERSION) {
      return Optional.empty();
    }
    return Optional.of(file + " needs TorchScript file version " + need.get(0) + "; libtorch " + libtorch
        + " reads up to " + MAX_FILE_VERSION + ": export with a torch no newer than the service's libtorch, or upgrade libtorch");
  }
}
