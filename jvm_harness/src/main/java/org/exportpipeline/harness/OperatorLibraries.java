package org.exportpipeline.harness;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.exportpipeline.harness.contract.ContractException;
import org.exportpipeline.harness.contract.Manifest;

/**
 * The operator libraries a program calls beyond its runtime's own (the manifest's needs.operator_libraries, e.g.
 * torchvision's nms and roi_align in a detector) against what a runtime can load. Without them the program does
 * not load at all ("Unknown builtin op: torchvision::nms"): that is said in one line, naming the library, before
 * the runtime opens the file, never left to look like answers that differ. Thread-safe (static, immutable).
 */
public final class OperatorLibraries {
  private OperatorLibraries() {}

  /**
   * The refusal for the format's file (e.g. model.pt) when it needs an operator library this runtime cannot load,
   * with why not, or empty when it needs none.
   */
  public static Optional<String> refusal(Manifest manifest, String format, String file, String runtime, String whyNot)
      throws ContractException {
    Map<String, List<String>> libraries = manifest.operatorLibraries(format);
    if (libraries.isEmpty()) {
      return Optional.empty();
    }
    String named = libraries.entrySet().stream()
        .map(library -> library.getKey() + " (" + library.getValue().stream().map(op -> library.getKey() + "::" + op)
            .collect(Collectors.joining(", ")) + ")")
        .collect(Collectors.joining(", "));
    return Optional.of(file + " does not load: needs operator library " + named + ", which " + runtime + " cannot load: " + whyNot);
  }
}
