package org.exportpipeline.harness;

import static com.tngtech.archunit.library.Architectures.layeredArchitecture;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.library.Architectures.LayeredArchitecture;
import java.util.Set;
import java.util.TreeSet;

/**
 * The harness's layers, checked on the compiled main classes: the contract (what a manifest and its
 * files say) stands alone; the runtime API a service embeds builds on the contract only; each engine
 * on the API and the contract only (the API finds engines through ServiceLoader, never by name); the
 * text ends (tokenizer and postprocess around the API) on both too; the command-line tools on all
 * three, and nothing depends on the tools. Every other package under the root
 * is an engine, so a new engine is held to the same rule without being listed here.
 */
@AnalyzeClasses(packages = LayersTest.ROOT, importOptions = ImportOption.DoNotIncludeTests.class)
class LayersTest {
  static final String ROOT = "org.exportpipeline.harness";
  private static final Set<String> NOT_ENGINES = Set.of("contract", "text", "tools");

  @ArchTest
  static void layers(JavaClasses classes) {
    LayeredArchitecture layers = layeredArchitecture().consideringOnlyDependenciesInLayers()
        .layer("contract").definedBy(ROOT + ".contract..")
        .layer("api").definedBy(ROOT)
        .layer("text").definedBy(ROOT + ".text..")
        .layer("tools").definedBy(ROOT + ".tools..")
        .whereLayer("contract").mayNotAccessAnyLayer()
        .whereLayer("api").mayOnlyAccessLayers("contract")
        .whereLayer("text").mayOnlyAccessLayers("api", "contract")
        .whereLayer("tools").mayOnlyAccessLayers("api", "contract", "text")
        .whereLayer("tools").mayNotBeAccessedByAnyLayer();
    for (String engine : engines(classes)) { // one layer each: an engine reaches no other engine
      layers = layers.layer(engine).definedBy(ROOT + "." + engine + "..")
          .whereLayer(engine).mayOnlyAccessLayers("api", "contract")
          .whereLayer(engine).mayNotBeAccessedByAnyLayer();
    }
    layers.ensureAllClassesAreContainedInArchitecture().check(classes);
  }

  /** The first package names under the root other than contract, text and tools. */
  private static Set<String> engines(JavaClasses classes) {
    Set<String> engines = new TreeSet<>();
    for (JavaClass type : classes) {
      String pkg = type.getPackageName();
      if (pkg.startsWith(ROOT + ".")) {
        String first = pkg.substring(ROOT.length() + 1).split("\\.")[0];
        if (!NOT_ENGINES.contains(first)) {
          engines.add(first);
        }
      }
    }
    if (engines.isEmpty()) {
      throw new AssertionError("no engine package under " + ROOT + ": the classes were not imported");
    }
    return engines;
  }
}
