package org.exportpipeline.harness;

import java.nio.file.Path;
import java.util.Map;
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
 * runner and applies the options; run() checks inputs against the manifest for every runner and
 * admits at most maxConcurrentCalls at once (the rest wait, bounded). Thread-safe.
 */
public final class Model implements AutoCloseable {
  /**
   * runtime: a runner's runtime name (null: the only runner of the format, else its first);
   * manifestSha256: the manifest's pinned digest (null: unpinned); intraOpThreads: 0 for the
   * runtime's default; maxConcurrentCalls: calls admitted at once.
   */
  public record Options(String runtime, String manifestSha256, int intraOpThreads, int maxConcurrentCalls) {
    public static Options defaults() {
      return new Options(null, null, 0, Pool.defaultSize());
    }

    public Options {
      if (intraOpThreads < 0 || maxConcurrentCalls < 1) {
        throw new IllegalArgumentException("intraOpThreads must be >= 0 and maxConcurrentCalls >= 1, got "
            + intraOpThreads + " and " + maxConcurrentCalls);
      }
    }
  }

  private final Manifest manifest;
  private final Runner runner;
  private final InputCheck inputCheck;
  private final Semaphore admitted;

  private Model(Manifest manifest, Runner runner, Semaphore admitted) throws ContractException {
    this.manifest = manifest;
    this.runner = runner;
    this.inputCheck = new InputCheck(manifest);
    this.admitted = admitted;
  }

  public static Model open(Path folder, String format, Options options) throws Exception {
    Manifest manifest = Manifest.read(folder, options.manifestSha256());
    if (!manifest.exported(format)) {
      throw new ContractException(folder + ": format " + format + " was not exported: export it, or open one the manifest lists");
    }
    manifest.verifyFormat(format);
    Runner runner = Runners.forFormat(format, options.runtime());
    if (options.intraOpThreads() > 0) {
      runner.threads(options.intraOpThreads());
    }
    Model model = new Model(manifest, runner, new Semaphore(options.maxConcurrentCalls(), true));
    try {
      runner.open(manifest.formatDir(format), manifest);
    } catch (Exception | Error e) {
      runner.close();
      throw e;
    }
    return model;
  }

  /** Runs one call; inputs are checked against the manifest (names, dtypes, ranks, dim bounds) first. */
  public Map<String, Tensor> run(Map<String, Tensor> inputs) throws Exception {
    inputCheck.require(inputs);
    if (!admitted.tryAcquire(Pool.WAIT_SECONDS, TimeUnit.SECONDS)) {
      throw new IllegalStateException(runner.runtime() + ": no call slot came free in " + Pool.WAIT_SECONDS + " s: raise maxConcurrentCalls");
    }
    try {
      return runner.run(inputs);
    } finally {
      admitted.release();
    }
  }

  public String runtime() {
    return runner.runtime();
  }

  public Manifest manifest() {
    return manifest;
  }

  /** Waits for calls in flight, then frees the runtime. */
  @Override
  public void close() throws Exception {
    runner.close();
  }
}
