package org.exportpipeline.harness.libtorch;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.exportpipeline.harness.contract.ContractException;
import org.exportpipeline.harness.contract.Manifest;
import org.exportpipeline.harness.Release;

/**
 * What an AOTInductor package needs (the manifest's compiled_by_torch and cpu_isa) against the
 * libtorch and the CPU that would load it, checked before the package's shared library is loaded.
 *
 * <p>The limits: AOTI's stable C shim promises old packages on a newer libtorch, nothing for the
 * reverse, so a package compiled by a newer torch minor is refused. The CPU ISA words are Inductor's
 * (torch/_inductor/cpu_vec_isa.py), each compiled with the -m flags below: on a CPU without them the
 * first such instruction is SIGILL, a JVM crash, so a package whose ISA the CPU (its /proc/cpuinfo
 * flags) lacks is refused. An ISA word not listed here, or a CPU whose flags cannot be read, is left
 * to libtorch. Thread-safe (static, immutable).
 */
final class AotiLimits {
  /** Inductor's ISA word -> the /proc/cpuinfo flags of its compile flags (-mavx512f ... -mfma, and so on). */
  static final Map<String, List<String>> ISA_FLAGS = Map.of(
      "AVX2", List.of("avx2", "fma", "f16c"),
      "AVX512", List.of("avx512f", "avx512dq", "avx512vl", "avx512bw", "fma"),
      "AVX512_VNNI", List.of("avx512_vnni"),
      "AMX_TILE", List.of("amx_tile", "amx_bf16", "amx_int8"));

  private AotiLimits() {}

  /** The refusal for the format's package (file, e.g. model.pt2) on this libtorch (e.g. "2.13.0") and CPU flags, or empty. */
  static Optional<String> refusal(Manifest manifest, String format, String file, String libtorch, Set<String> cpuFlags)
      throws ContractException {
    List<String> compiledBy = manifest.need(format, "compiled_by_torch");
    Optional<Release> runtime = Release.of(libtorch);
    Optional<Release> producer = compiledBy.isEmpty() ? Optional.empty() : Release.of(compiledBy.get(0));
    if (runtime.isPresent() && producer.isPresent() && producer.get().compareTo(runtime.get()) > 0) {
      return Optional.of(file + " was compiled by torch " + compiledBy.get(0) + "; libtorch " + libtorch
          + " loads AOTI packages of torch " + runtime.get() + " and older (AOTI promises old packages on newer libtorch only):"
          + " export with torch " + runtime.get() + " or upgrade libtorch");
    }
    if (cpuFlags.isEmpty()) {
      return Optional.empty();
    }
    for (String isa : manifest.need(format, "cpu_isa")) {
      Set<String> missing = new TreeSet<>();
      for (String word : isa.toUpperCase().split("\\s+")) {
        ISA_FLAGS.getOrDefault(word, List.of()).stream().filter(flag -> !cpuFlags.contains(flag)).forEach(missing::add);
      }
      if (!missing.isEmpty()) {
        return Optional.of(file + " needs CPU ISA " + isa + "; this CPU lacks " + String.join(", ", missing)
            + ": export the package on a CPU like the serving one (or with an older ISA), or serve it on such a CPU");
      }
    }
    return Optional.empty();
  }

  /** This CPU's feature flags (the first "flags" line of /proc/cpuinfo), empty where it cannot be read. */
  static Set<String> cpuFlags() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
        if (line.startsWith("flags")) {
          return new HashSet<>(Arrays.asList(line.substring(line.indexOf(':') + 1).trim().split("\\s+")));
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux, or no procfs: the ISA is left to libtorch
    }
    return Set.of();
  }
}
