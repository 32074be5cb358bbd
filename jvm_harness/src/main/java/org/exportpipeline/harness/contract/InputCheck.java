package org.exportpipeline.harness.contract;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Checks inputs against the manifest's declared dtypes, ranks and dim bounds before a runtime sees
 * them: some runtimes (AOTI without AOTI_RUNTIME_CHECK_INPUTS) run a wrong shape silently.
 * Thread-safe: immutable.
 */
public final class InputCheck {
  private final List<Manifest.InputSpec> specs;

  public InputCheck(Manifest manifest) throws ContractException {
    this.specs = manifest.inputSpecs();
  }

  /** One line naming the input, what it got and what the export accepts; empty when the inputs are acceptable. */
  public java.util.Optional<String> problem(Map<String, Tensor> inputs) {
    try {
      require(inputs);
      return java.util.Optional.empty();
    } catch (IllegalArgumentException e) {
      return java.util.Optional.of(e.getMessage());
    }
  }

  /** The same for one input's dtype and shape alone, before its buffer exists. */
  public java.util.Optional<String> shapeProblem(String name, Tensor.DType dtype, long[] shape) {
    for (Manifest.InputSpec spec : specs) {
      if (spec.name().equals(name)) {
        boolean fits = shape.length == spec.bounds().length;
        for (int axis = 0; fits && axis < shape.length; axis++) {
          fits = shape[axis] >= spec.bounds()[axis][0] && shape[axis] <= spec.bounds()[axis][1];
        }
        return fits ? java.util.Optional.empty() : java.util.Optional.of("input " + name + " has shape " + Arrays.toString(shape)
            + " but the model was exported for " + describe(spec.bounds()) + ": pass a shape within those bounds");
      }
    }
    return java.util.Optional.of("input " + name + " is not an input of the model; it takes " + names());
  }

  /** Throws IllegalArgumentException naming the input, what it got and what the export accepts. */
  public void require(Map<String, Tensor> inputs) {
    for (Manifest.InputSpec spec : specs) {
      Tensor input = inputs.get(spec.name());
      if (input == null) {
        throw new IllegalArgumentException("input " + spec.name() + " is missing; the model takes " + names());
      }
      if (!input.dtype().numpy().equals(spec.dtype())) {
        throw new IllegalArgumentException("input " + spec.name() + " is " + input.dtype().numpy()
            + " but the model was exported for " + spec.dtype());
      }
      long[] shape = input.shape();
      boolean fits = shape.length == spec.bounds().length;
      for (int axis = 0; fits && axis < shape.length; axis++) {
        fits = shape[axis] >= spec.bounds()[axis][0] && shape[axis] <= spec.bounds()[axis][1];
      }
      if (!fits) {
        throw new IllegalArgumentException("input " + spec.name() + " has shape " + Arrays.toString(shape)
            + " but the model was exported for " + describe(spec.bounds()) + ": pass a shape within those bounds");
      }
    }
  }

  private String names() {
    return specs.stream().map(Manifest.InputSpec::name).collect(Collectors.joining(", "));
  }

  private static String describe(long[][] bounds) {
    return Arrays.stream(bounds)
        .map(b -> b[0] == b[1] ? Long.toString(b[0]) : b[0] + ".." + b[1])
        .collect(Collectors.joining(", ", "[", "]"));
  }
}
