/**
 * The {@code dwcp} command-line tool ({@link io.dwcp.bench.DwcpCli}: send, receive, demo, encode, bench-transport,
 * chart) that produces every figure the project publishes, beside a named baseline. Not a library API.
 * Micro-benchmarks (JMH, labelled micro) live in {@code io.dwcp.bench.jmh}.
 */
package io.dwcp.bench;
