import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.exportpipeline.harness.Model;
import org.exportpipeline.harness.contract.Tensor;

/**
 * What a service does with the harness: open one exported model once, call it from many request
 * threads, close it on shutdown. Runs as a single-file program (tests/test_service_example.py runs it):
 *
 * <pre>
 * java -cp "$(python -m jvm_harness classpath --engine onnxruntime)" jvm_harness/example/ServeFromThreads.java \
 *     artifacts/mlp onnx
 * </pre>
 *
 * Prints how many answers came back and whether all equalled the first, bit for bit; exit 1 if not.
 */
public final class ServeFromThreads {
  private static final int REQUEST_THREADS = 8;
  private static final int REQUESTS = 200;

  public static void main(String[] args) throws Exception {
    Path folder = Path.of(args[0]);
    String format = args.length > 1 ? args[1] : "onnx";
    // Any runtime of the format, manifest unpinned (pass its sha256 in production), one intra-op thread
    // per call, at most 4 calls in flight: further request threads wait for a slot.
    Model.Options options = Model.Options.builder().intraOpThreads(1).maxConcurrentCalls(4).build();
    try (Model model = Model.open(folder, format, options)) { // checks every file before the runtime opens it
      Map<String, Tensor> request = model.manifest().goldenCases().get(0).inputs(); // a service builds its own
      ExecutorService requestThreads = Executors.newFixedThreadPool(REQUEST_THREADS);
      List<Future<Map<String, Tensor>>> answers = new ArrayList<>();
      for (int i = 0; i < REQUESTS; i++) {
        answers.add(requestThreads.submit(() -> model.run(request))); // run is safe from any thread
      }
      Map<String, Tensor> first = answers.get(0).get();
      int same = 0;
      for (Future<Map<String, Tensor>> answer : answers) {
        same += equal(first, answer.get()) ? 1 : 0;
      }
      requestThreads.shutdown();
      System.out.printf("%s on %s: %d answers from %d request threads, %d identical to the first%n",
          model.runtime(), folder, answers.size(), REQUEST_THREADS, same);
      if (same != answers.size()) {
        System.exit(1);
      }
    } // close waits for calls in flight, then frees the runtime
  }

  private static boolean equal(Map<String, Tensor> a, Map<String, Tensor> b) {
    return a.keySet().equals(b.keySet()) && a.keySet().stream().allMatch(name -> a.get(name).data().equals(b.get(name).data()));
  }

}
