package org.exportpipeline.harness.text;

/** Two texts a pair model (reranker, cross-encoder) reads together. Immutable, so thread-safe. */
public record TextPair(String first, String second) {}
