/**
 * JMH micro-benchmarks of HDE: labelled micro, never end-to-end results. Not API. Run with
 * {@code java -cp dwcp-bench/target/dwcp.jar org.openjdk.jmh.Main 'io.dwcp.bench.jmh.*' -prof gc -rf json}.
 */
package io.dwcp.bench.jmh;
