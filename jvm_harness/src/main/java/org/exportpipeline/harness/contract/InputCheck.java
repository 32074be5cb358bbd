package org.exportpipeline.harness.contract;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Checks inputs against the manifest's declared names, dtypes, ranks, dim bounds, shared dims and integer
 * value ranges before a runtime sees them: some runtimes run a wrong shape silently (AOTI without
 * AOTI_RUNTIME_CHECK_INPUTS), answer a stale result when two inputs disagree on a shared dim (OpenVINO), or
 * abort the whole process on an id its embedding table lacks (AOTI: c10::Error, exit 134).
 * exporters.contract.manifest.check_inputs applies the same rules, in the same order, in the same words.
 * Thread-safe: immutable.
 */
public final class InputCheck {
  private final List<Manifest.InputSpec> specs;
  private final Map<String, Manifest.InputSpec> byName = new LinkedHashMap<>();
  private final String names;
  // Per input and axis: where the dim's name first appears ({input index, axis}), or null when it is fixed or
  // first appears here. A later axis of that name must have the same size.
  private final int[][][] firstOfDim;

  public InputCheck(Manifest manifest) throws ContractException {
    this.specs = List.copyOf(manifest.inputSpecs());
    specs.forEach(spec -> byName.put(spec.name(), spec));
    this.names = specs.stream().map(Manifest.InputSpec::name).collect(Collectors.joining(", "));
    Map<String, int[]> first = new HashMap<>();
    firstOfDim = new int[specs.size()][][];
    for (int input = 0; input < specs.size(); input++) {
      String[] dims = specs.get(input).dims();
      firstOfDim[input] = new int[dims.length][];
      for (int axis = 0; axis < dims.length; axis++) {
        if (dims[axis] != null) {
          int[] here = {input, axis};
          int[] seen = first.putIfAbsent(dims[axis], here);
          firstOfDim[input][axis] = seen;
        }
      }
    }
  }

  /**
   * One line for people naming the input, what it got and what the export accepts; empty when the inputs are
   * acceptable. In order: unknown names, missing ones, then per input its dtype, its shape within the bounds and
   * the dims it shares with earlier inputs, then integer values within the manifest's "values".
   */
  public Optional<String> problem(Map<String, Tensor> inputs) {
    Optional<String> unknown = inputs.keySet().stream().filter(name -> !byName.containsKey(name)).sorted().findFirst();
    if (unknown.isPresent()) {
      return Optional.of(unknown(unknown.get()));
    }
    Tensor[] given = new Tensor[specs.size()];
    for (int input = 0; input < specs.size(); input++) {
      given[input] = inputs.get(specs.get(input).name());
      if (given[input] == null) {
        return Optional.of("input " + specs.get(input).name() + " is missing; the model takes " + names);
      }
    }
    for (int input = 0; input < specs.size(); input++) {
      Manifest.InputSpec spec = specs.get(input);
      long[] shape = given[input].shape();
      Optional<String> problem = shapeProblem(spec, given[input].dtype(), shape);
      if (problem.isPresent()) {
        return problem;
      }
      for (int axis = 0; axis < shape.length; axis++) {
        int[] first = firstOfDim[input][axis];
        if (first != null && given[first[0]].shape()[first[1]] != shape[axis]) {
          String dim = spec.dims()[axis];
          return Optional.of("input " + spec.name() + " has " + dim + " " + shape[axis] + " but " + specs.get(first[0]).name()
              + " has " + given[first[0]].shape()[first[1]] + ": inputs that share the dim " + dim + " must agree");
        }
      }
    }
    for (int input = 0; input < specs.size(); input++) {
      if (specs.get(input).values() != null) {
        Optional<String> problem = valueProblem(specs.get(input), given[input]);
        if (problem.isPresent()) {
          return problem;
        }
      }
    }
    return Optional.empty();
  }

  /** The same for one input's dtype and shape alone, before its buffer exists (no value check). */
  public Optional<String> shapeProblem(String name, Tensor.DType dtype, long[] shape) {
    Manifest.InputSpec spec = byName.get(name);
    return spec == null ? Optional.of(unknown(name)) : shapeProblem(spec, dtype, shape);
  }

  /** The same for an input's shape alone, of the dtype the model declares for it: what a service asks before it allocates. */
  public Optional<String> shapeProblem(String name, long[] shape) {
    Manifest.InputSpec spec = byName.get(name);
    return spec == null ? Optional.of(unknown(name)) : boundsProblem(spec, shape);
  }

  /** The dtype the model declares for an input, or empty for a name it does not take (or a dtype no Tensor holds). */
  public Optional<Tensor.DType> dtype(String name) {
    Manifest.InputSpec spec = byName.get(name);
    return spec == null ? Optional.empty() : Tensor.DType.ofNumpy(spec.dtype());
  }

  private String unknown(String name) {
    return "input " + name + " is not an input of the model; it takes " + names + ": fix the name or drop it";
  }

  private static Optional<String> shapeProblem(Manifest.InputSpec spec, Tensor.DType dtype, long[] shape) {
    if (!dtype.numpy().equals(spec.dtype())) {
      return Optional.of("input " + spec.name() + " is " + dtype.numpy() + " but the model was exported for " + spec.dtype());
    }
    return boundsProblem(spec, shape);
  }

  private static Optional<String> boundsProblem(Manifest.InputSpec spec, long[] shape) {
    long[][] bounds = spec.bounds();
    boolean fits = shape.length == bounds.length;
    for (int axis = 0; fits && axis < shape.length; axis++) {
      fits = shape[axis] >= bounds[axis][0] && shape[axis] <= bounds[axis][1];
    }
    if (!fits) {
      return Optional.of("input " + spec.name() + " has shape " + Arrays.toString(shape) + " but the model was exported for "
          + describe(bounds) + ": pass a shape within those bounds");
    }
    return Optional.empty();
  }

  /** The first element (row-major) outside the declared values: absolute gets on a view, no copy. */
  private static Optional<String> valueProblem(Manifest.InputSpec spec, Tensor tensor) {
    long min = spec.values().min();
    long max = spec.values().max();
    ByteBuffer data = tensor.data().duplicate().order(ByteOrder.nativeOrder());
    switch (tensor.dtype()) {
      case INT32 -> {
        IntBuffer ints = data.asIntBuffer();
        for (int i = 0, n = ints.remaining(); i < n; i++) {
          int value = ints.get(i);
          if (value < min || value > max) {
            return Optional.of(outside(spec, tensor.shape(), i, value));
          }
        }
      }
      case INT64 -> {
        LongBuffer longs = data.asLongBuffer();
        for (int i = 0, n = longs.remaining(); i < n; i++) {
          long value = longs.get(i);
          if (value < min || value > max) {
            return Optional.of(outside(spec, tensor.shape(), i, value));
          }
        }
      }
      default -> {
        // Only integer inputs carry values (Manifest refuses others); the dtype check ran before.
      }
    }
    return Optional.empty();
  }

  private static String outside(Manifest.InputSpec spec, long[] shape, long flat, long value) {
    long[] index = new long[shape.length];
    for (int axis = shape.length - 1; axis >= 0; axis--) {
      index[axis] = flat % shape[axis];
      flat /= shape[axis];
    }
    Manifest.InputSpec.Values values = spec.values();
    return "input " + spec.name() + " holds " + value + " at index " + Arrays.toString(index) + " but the model takes values "
        + values.min() + ".." + values.max() + (values.from() == null ? "" : " (" + values.from() + ")")
        + ": pass values within that range";
  }

  private static String describe(long[][] bounds) {
    return Arrays.stream(bounds)
        .map(b -> b[0] == b[1] ? Long.toString(b[0]) : b[0] + ".." + b[1])
        .collect(Collectors.joining(", ", "[", "]"));
  }
}
