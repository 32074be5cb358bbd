package org.exportpipeline.harness;

import java.lang.ref.Reference;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.exportpipeline.harness.contract.InputCheck;
import org.exportpipeline.harness.contract.Manifest;
import org.exportpipeline.harness.contract.Messages;
import org.exportpipeline.harness.contract.OutputCheck;
import org.exportpipeline.harness.contract.Tensor;

/**
 * One JVM runtime binding, on one template: this class owns the life cycle (open once, run from any
 * number of threads, close after the calls in flight), the refusal of an artifact the runtime cannot
 * read (operator libraries it cannot load, and the engine's {@link Limits}), the input check, the
 * lifetime of the memory a call hands to native code, and the errors a caller sees. An engine names
 * itself in its constructor, declares its data (its {@link DTypes} table, its limits, how it is told
 * threads) and writes only {@link #load}, {@link #infer} and {@link #release}.
 *
 * <p>Memory: a runtime reads the callers' direct buffers by address. The GC may free a direct buffer
 * once no Java code uses it any more, and the JIT can decide that before the native call that reads
 * it returns (OpenVINO answered NaN rows and garbage after minutes of load that way). run() keeps every
 * input reachable until infer has returned ({@link Reference#reachabilityFence}), so infer may hand
 * their addresses to native code for the call; it must not keep them after it returns.
 *
 * <p>Errors: run() throws {@link InvalidInputException} before the runtime sees bad inputs, a
 * {@link RuntimeFailureException} for outputs beyond the manifest's bounds ({@link OutputCheck}),
 * {@link ModelUnavailableException} before open or after close, and {@link RuntimeFailureException}
 * (the runtime's decisive line, its exception as the cause) for whatever the runtime throws.
 *
 * <p>Implementations are found with {@link java.util.ServiceLoader} (META-INF/services/org.exportpipeline.harness.Runner
 * in each engine's jar); their constructors must not load native code, since every runner on the
 * classpath is instantiated to learn its engine. Thread-safe once opened: infer is called from many
 * threads at once, and each engine states how it serves them (a shared session, or a bounded pool
 * whose extra callers wait).
 */
public abstract class Runner implements AutoCloseable {
  private final String format;
  private final String runtime;
  private final String engine;
  private final CallGate gate;
  private int intraOpThreads;
  private InputCheck inputCheck;
  private OutputCheck outputCheck;
  private List<String> inputNames;
  private List<String> outputNames;

  /**
   * An engine's runner names itself once: the format folder it loads (a key of the manifest's "formats"), its
   * runtime as the manifest records it (e.g. "onnxruntime-java"), and its engine, the native runtime behind it.
   * Runners of one engine share a JVM; engines whose natives clash (two libtorch builds) run in separate JVM
   * processes, so the engine is also a key of jvm_harness/runtimes.py's ENGINES.
   */
  protected Runner(String format, String runtime, String engine) {
    this.format = format;
    this.runtime = runtime;
    this.engine = engine;
    this.gate = new CallGate(runtime);
  }

  public final String format() {
    return format;
  }

  public final String runtime() {
    return runtime;
  }

  public final String engine() {
    return engine;
  }

  /** Version of the native runtime behind the binding (may load it). */
  public abstract String version();

  /**
   * Asks for {@code count} intra-op threads; call before {@link #open}. Returns how the runtime was
   * told, or empty where this binding cannot set it (benchmarks state which).
   */
  public final Optional<String> threads(int count) {
    intraOpThreads = count;
    return threadsSetting(count);
  }

  /**
   * Loads the artifact in formatDir (inputs and outputs named as in the manifest), after the engine's
   * refusal (a missing operator library, then {@link #limits}): a file the runtime cannot read is refused in one
   * line before the runtime opens it.
   */
  public final void open(Path formatDir, Manifest manifest) throws Exception {
    gate.open(() -> {
      String main = manifest.main(format);
      Optional<String> refusal = OperatorLibraries.refusal(manifest, format, main, runtime, withoutOperatorLibraries());
      if (refusal.isEmpty()) {
        refusal = limits().refusal(manifest, format, main);
      }
      if (refusal.isPresent()) {
        throw new UnsupportedOperationException(refusal.get()); // before the runtime parses it: one line, no native trace
      }
      inputCheck = new InputCheck(manifest);
      outputCheck = new OutputCheck(manifest);
      inputNames = manifest.inputNames();
      outputNames = manifest.outputNames();
      load(formatDir, manifest);
      return null;
    });
  }

  /** Runs one call: inputs checked against the manifest, then the runtime; outputs named as in the manifest. */
  public final Map<String, Tensor> run(Map<String, Tensor> inputs) throws ModelException {
    return gate.call(() -> {
      Optional<String> problem = inputCheck.problem(inputs);
      if (problem.isPresent()) {
        throw new InvalidInputException(problem.get());
      }
      List<Tensor> ordered = new ArrayList<>(inputNames.size());
      for (String name : inputNames) {
        ordered.add(inputs.get(name));
      }
      Map<String, Tensor> outputs;
      try {
        outputs = infer(ordered);
      } catch (ModelException e) {
        throw e;
      } catch (VirtualMachineError e) {
        throw e; // out of memory or stack: the JVM's own state, not this call's
      } catch (Exception | Error e) { // Error: JNA's "Invalid memory access", a native library that does not link
        throw new RuntimeFailureException(runtime, Messages.decisiveLine(e), e);
      } finally {
        Reference.reachabilityFence(ordered); // the caller's buffers outlive every native read of this call
        Reference.reachabilityFence(inputs);
      }
      if (outputs.size() != outputNames.size() || !outputs.keySet().containsAll(outputNames)) {
        throw new RuntimeFailureException(runtime, "the model returned outputs " + outputs.keySet() + ", the manifest names "
            + outputNames + ": re-export the model", null);
      }
      Optional<String> beyond = outputCheck.problem(outputs);
      if (beyond.isPresent()) {
        throw new RuntimeFailureException(runtime, beyond.get(), null);
      }
      return outputs;
    });
  }

  /** Waits for calls in flight, then frees the runtime; later calls are refused, later closes do nothing. */
  @Override
  public final void close() throws Exception {
    gate.close(() -> {
      release();
      return null;
    });
  }

  /** The manifest's input names in order: infer's inputs come in this order. */
  protected final List<String> inputNames() {
    return inputNames;
  }

  /** The manifest's output names in order: infer names its outputs so. */
  protected final List<String> outputNames() {
    return outputNames;
  }

  /** The intra-op threads asked for with {@link #threads}; 0: the runtime's default. */
  protected final int intraOpThreads() {
    return intraOpThreads;
  }

  /** How this runtime is told {@code count} intra-op threads (at load), or empty where the binding cannot. */
  protected Optional<String> threadsSetting(int count) {
    return Optional.empty();
  }

  /** What this runtime can read (asked at open, before load; may load the runtime to learn its version). */
  protected Limits limits() {
    return Limits.NONE;
  }

  /**
   * Why this runtime cannot load operator libraries beyond its own (a program that calls torchvision::nms is
   * refused at open with this reason, naming the library).
   */
  protected String withoutOperatorLibraries() {
    return "it has no way to load one; serve an artifact that needs none";
  }

  /** Loads the artifact; release() frees what it made, also after it failed midway. */
  protected abstract void load(Path formatDir, Manifest manifest) throws Exception;

  /**
   * Runs one checked call: inputs in {@link #inputNames()} order, each valid until this returns.
   * Returns outputs named as in {@link #outputNames()}, in memory they own (a copy, never the
   * runtime's own buffers, which it reuses).
   */
  protected abstract Map<String, Tensor> infer(List<Tensor> inputs) throws Exception;

  /** Frees the runtime's objects; runs once, with no call in flight. */
  protected abstract void release() throws Exception;
}
