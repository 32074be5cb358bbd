package org.exportpipeline.harness;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.exportpipeline.harness.contract.ContractException;
import org.exportpipeline.harness.contract.InputCheck;
import org.exportpipeline.harness.contract.Manifest;
import org.exportpipeline.harness.contract.Tensor;

/**
 * What a service embeds: one exported format of a model folder, opened once and called from any
 * number of threads. open() reads the manifest (checking its pin), checks every file of the format
 * against it (sha256, size, paths confined to the folder) before any runtime opens a file, picks the
 * runner and applies the options; run() admits at most maxConcurrentCalls at once (the rest wait up to
 * the admission wait), and its runner checks the inputs against the manifest before the runtime sees
 * them. Failures are {@link ModelException}s of three kinds a service maps on its own.
 *
 * <p>Shutdown: close() lets calls in flight finish, then frees the runtime; calls after it are refused
 * ({@link ModelUnavailableException.Reason#CLOSED}). Close every model before the JVM exits: some
 * runtimes free their own state from shutdown hooks of their own (ONNX Runtime), which run at the same
 * time as the application's, so a call still in flight then crashes the JVM. {@link GracefulShutdown}
 * does this on SIGTERM and SIGINT. Thread-safe.
 */
public final class Model implements AutoCloseable {
  /**
   * How to open a model: {@code Options.builder().runtime("onnxruntime-java").build()}. Defaults: the
   * format's first runner, manifest unpinned (pin it in production), the runtime's own intra-op
   * threads, one call slot per core, calls wait up to 30 s for a slot. Immutable, so thread-safe.
   */
  public static final class Options {
    private final String runtime;
    private final String manifestSha256;
    private final int intraOpThreads;
    private final int maxConcurrentCalls;
    private final Duration admissionWait;

    private Options(Builder b) {
      runtime = b.runtime;
      manifestSha256 = b.manifestSha256;
      intraOpThreads = b.intraOpThreads;
      maxConcurrentCalls = b.maxConcurrentCalls;
      admissionWait = b.admissionWait;
    }

    public static Options defaults() {
      return builder().build();
    }

    public static Builder builder() {
      return new Builder();
    }

    public Optional<String> runtime() {
      return Optional.ofNullable(runtime);
    }

    public Optional<String> manifestSha256() {
      return Optional.ofNullable(manifestSha256);
    }

    public int intraOpThreads() {
      return intraOpThreads;
    }

    public int maxConcurrentCalls() {
      return maxConcurrentCalls;
    }

    public Duration admissionWait() {
      return admissionWait;
    }

    /** Builds {@link Options}; each setter checks its value. Not thread-safe (one builder per thread). */
    public static final class Builder {
      private String runtime;
      private String manifestSha256;
      private int intraOpThreads;
      private int maxConcurrentCalls = Pool.defaultSize();
      private Duration admissionWait = Duration.ofSeconds(30);

      private Builder() {}

      /** A runner's runtime name (SelfCheck --list-runners); unset: the format's first runner. */
      public Builder runtime(String runtime) {
        this.runtime = runtime;
        return this;
      }

      /** The digest the manifest must have (`sha256sum MODEL/manifest.json`); unset: unpinned. */
      public Builder manifestSha256(String sha256) {
        this.manifestSha256 = sha256;
        return this;
      }

      /** Intra-op threads per call; 0 (the default): the runtime's own choice. */
      public Builder intraOpThreads(int threads) {
        if (threads < 0) {
          throw new IllegalArgumentException("intraOpThreads must be >= 0 (0: the runtime's default), got " + threads);
        }
        this.intraOpThreads = threads;
        return this;
      }

      /** Calls admitted at once; callers beyond wait for a slot. */
      public Builder maxConcurrentCalls(int calls) {
        if (calls < 1) {
          throw new IllegalArgumentException("maxConcurrentCalls must be >= 1, got " + calls);
        }
        this.maxConcurrentCalls = calls;
        return this;
      }

      /** How long a call waits for a slot before it is refused as overloaded. */
      public Builder admissionWait(Duration wait) {
        if (wait.isNegative()) {
          throw new IllegalArgumentException("admissionWait must not be negative, got " + wait);
        }
        this.admissionWait = wait;
        return this;
      }

      public Options build() {
        return new Options(this);
      }
    }
  }

  private final Manifest manifest;
  private final Runner runner;
  private final InputCheck inputCheck;
  private final Semaphore admitted;
  private final long admissionWaitNanos;
  private final String version;

  private Model(Manifest manifest, Runner runner, Options options) throws ContractException {
    this.manifest = manifest;
    this.runner = runner;
    this.inputCheck = new InputCheck(manifest);
    this.admitted = new Semaphore(options.maxConcurrentCalls(), true);
    this.admissionWaitNanos = options.admissionWait().toNanos();
    this.version = runner.version();
  }

  /**
   * Opens one format of a model folder. Throws ContractException when the folder does not hold what
   * its manifest promises (nothing was loaded), IllegalArgumentException when no runner on the
   * classpath serves the format, UnsupportedOperationException when the runtime cannot read this
   * artifact (a newer file version than it has), and what the runtime throws when it fails to load it.
   */
  public static Model open(Path folder, String format, Options options) throws Exception {
    Manifest manifest = Manifest.read(folder, options.manifestSha256().orElse(null));
    if (!manifest.exported(format)) {
      throw new ContractException(folder + ": format " + format + " was not exported: export it, or open one the manifest lists");
    }
    manifest.verifyFormat(format);
    Runner runner = Runners.forFormat(format, options.runtime().orElse(null));
    if (options.intraOpThreads() > 0) {
      runner.threads(options.intraOpThreads());
    }
    try {
      runner.open(manifest.formatDir(format), manifest);
      return new Model(manifest, runner, options);
    } catch (Exception | Error e) {
      runner.close();
      throw e;
    }
  }

  /** Runs one call; see {@link Runner#run} for what is checked and what each exception means. */
  public Map<String, Tensor> run(Map<String, Tensor> inputs) throws ModelException {
    boolean admittedNow;
    try {
      admittedNow = admitted.tryAcquire(admissionWaitNanos, TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ModelUnavailableException(ModelUnavailableException.Reason.OVERLOADED, runtime() + ": interrupted while waiting for a call slot");
    }
    if (!admittedNow) {
      throw new ModelUnavailableException(ModelUnavailableException.Reason.OVERLOADED, runtime() + ": no call slot came free in "
          + Duration.ofNanos(admissionWaitNanos).toMillis() + " ms: raise maxConcurrentCalls or admissionWait, or send fewer calls");
    }
    try {
      return runner.run(inputs);
    } finally {
      admitted.release();
    }
  }

  /**
   * A zeroed input of the manifest's dtype in memory a runtime can read (a direct buffer), for the
   * service to fill: its shape is checked against the declared box before anything is allocated, so
   * an oversized request costs nothing.
   */
  public Tensor newInput(String name, long... shape) throws InvalidInputException {
    Optional<String> problem = inputCheck.shapeProblem(name, shape);
    if (problem.isPresent()) {
      throw new InvalidInputException(problem.get());
    }
    Tensor.DType dtype = inputCheck.dtype(name).orElseThrow(() -> new UnsupportedOperationException("input " + name
        + " has a dtype no Tensor holds (float32, float64, int32, int64, bool): re-export the model with one of them"));
    ByteBuffer data = ByteBuffer.allocateDirect(Math.toIntExact(Tensor.elementCount(shape) * dtype.bytes())).order(ByteOrder.nativeOrder());
    return new Tensor(name, dtype, shape.clone(), data);
  }

  /** The runtime serving this model, as verification records name it (e.g. "onnxruntime-java"). */
  public String runtime() {
    return runner.runtime();
  }

  /** The runtime's version, e.g. "1.29.0" or "libtorch 2.13.0 (JavaCPP presets 1.5.14)". */
  public String version() {
    return version;
  }

  public Manifest manifest() {
    return manifest;
  }

  /** Waits for calls in flight, then frees the runtime; later calls are refused. */
  @Override
  public void close() throws Exception {
    runner.close();
  }
}
