package org.exportpipeline.harness;

import java.util.List;
import java.util.Map;
import org.exportpipeline.harness.contract.Tensor;

/**
 * A runner whose calls each borrow a native handle that serves one call at a time (a DJL Predictor, an
 * OpenVINO infer request, an ExecuTorch Module) from a bounded {@link Pool}: callers beyond it wait. The
 * template owns borrowing and freeing; an engine makes the pool in load, and writes one call on a handle,
 * how a handle is freed and what the handles share. Thread-safe as {@link Runner} is.
 *
 * @param <H> the engine's handle
 */
public abstract class PooledRunner<H> extends Runner {
  private Pool<H> handles;

  protected PooledRunner(String format, String runtime, String engine) {
    super(format, runtime, engine);
  }

  /** Makes the pool calls borrow from (in load, once what the handles share is made). */
  protected final void pool(String what, int max, Pool.Factory<H> factory) {
    handles = new Pool<>(what, max, factory);
  }

  /** The pool, once loaded (tests read its size). */
  protected final Pool<H> pool() {
    return handles;
  }

  @Override
  protected final Map<String, Tensor> infer(List<Tensor> inputs) throws Exception {
    return handles.with(handle -> call(handle, inputs));
  }

  /** One call on a borrowed handle, as {@link Runner#infer} describes it. */
  protected abstract Map<String, Tensor> call(H handle, List<Tensor> inputs) throws Exception;

  /** Frees one handle; at close, with no call in flight. */
  protected abstract void free(H handle);

  @Override
  protected final void release() throws Exception {
    if (handles != null) {
      handles.close(this::free);
      handles = null;
    }
    releaseShared();
  }

  /** Frees what the handles share (a model, a compiled model), after them; also after a failed load. */
  protected void releaseShared() throws Exception {}
}
